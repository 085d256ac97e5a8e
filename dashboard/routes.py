"""Dashboard routes, on an APIRouter that the ingress mounts beside the API (`mount`), so one HTTP port serves both.

Each route receives the replica's `DashboardBackend` (its stores and its analysis entry point, built once by the
ingress's composition root) as a FastAPI dependency from `app.state.dashboard`; a dashboard that is off is not
mounted, so its paths answer 404. Every state-changing request carries a CSRF token tied to the session (or, for
sign-in, to a pre-session cookie).
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from softskills.api.errors import Forbidden, HttpError, NotFound, SignInRequired, answer_for
from softskills.api.limits import MinimumRate, read_form
from softskills.auth.accounts import Account, AccountStore, LoginPolicy, csrf_matches, csrf_token
from softskills.auth.cli import EXPIRY_CHOICES
from softskills.auth.store import KeyRecord, KeyStore
from softskills.config.options import DashboardOptions
from softskills.db.base import utc_now
from softskills.jobs.store import JobStore, Result
from softskills.models.interpretation.model import CATEGORIES
from softskills.subjects.store import SUBJECT_PATTERN, SubjectStore

PREFIX = "/dashboard"
SESSION_COOKIE = "ss_session"
LOGIN_COOKIE = "ss_login"  # pre-session CSRF secret of the sign-in form
CSRF_HEADER = "x-csrf-token"
EXPIRY_LABELS = {"30d": "30 days", "90d": "90 days", "1y": "1 year", "never": "Never"}
# Every dashboard form is a CSRF token and at most two short fields (the longest a 1024-character password,
# percent-encoded); they are bounded before parsing, so a hostile form costs a few KB whoever sends it.
FORM_MAX_BODY_BYTES = 32 * 1024
FORM_MAX_FIELDS = 4
FORM_MAX_FIELD_BYTES = 16 * 1024
HISTORY_ROWS = 50  # the Reports tab lists the newest this many jobs and uploads
PROGRESS_POINTS = 200  # the progress chart plots a subject's latest this many sessions
PROGRESS_SUBJECTS = 100  # and offers the first this many of the account's subjects, in name order
_HERE = Path(__file__).resolve().parent
logger = logging.getLogger("ray.serve")


def _plotly_bundle() -> Path:
    """plotly.min.js as shipped in the plotly wheel (MIT); served locally, never from a CDN."""
    spec = importlib.util.find_spec("plotly")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


STATIC_FILES = {
    "app.css": (_HERE / "static" / "app.css", "text/css"),
    "keys.js": (_HERE / "static" / "keys.js", "text/javascript"),
    "report.js": (_HERE / "static" / "report.js", "text/javascript"),
    "plotly.min.js": (_plotly_bundle(), "text/javascript"),
}
_templates = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))


@dataclass
class DashboardBackend:
    accounts: AccountStore
    keys: KeyStore
    # the ingress's full-analysis pipeline, authorised by the session; the owner's quota holds the stored video
    analyze: Callable[[Request, str], Awaitable[Result]]
    session_ttl: timedelta = timedelta(hours=8)
    always_secure_cookies: bool = False
    media_sources: tuple[str, ...] = field(default_factory=tuple)  # origins of video URLs, for the CSP
    clock: Callable[[], datetime] = utc_now
    trusted_proxies: tuple[str, ...] = ()  # networks whose X-Forwarded-For is believed (DashboardOptions)
    reports: JobStore | None = None  # the account's jobs and the uploads' reports (the Reports tab's history)
    reports_retention: timedelta = timedelta(days=30)  # how long an upload's report is kept (jobs.retention_s)
    subjects: SubjectStore | None = None  # the sessions kept under the account's subjects (the progress chart)
    form_rate: MinimumRate | None = None  # the slowest a form may stream in (the ingress's minimum upload rate)


def login_policy(options: DashboardOptions) -> LoginPolicy:
    return LoginPolicy(
        options.login_max_failures, options.login_max_failures_per_ip, timedelta(seconds=options.login_window_s)
    )


def dashboard_backend(
    options: DashboardOptions,
    *,
    accounts: AccountStore,
    keys: KeyStore,
    reports: JobStore,
    subjects: SubjectStore,
    analyze: Callable[[Request, str], Awaitable[Result]],
    media_sources: tuple[str, ...],
    reports_retention: timedelta,
    form_rate: MinimumRate | None,
) -> DashboardBackend:
    """The backend the `dashboard` section describes. `analyze(request, owner)` is the replica's full-analysis
    minus the API-key check; each upload's report is kept `reports_retention` (`jobs.retention_s`); a form
    streaming slower than `form_rate` is dropped (408), as an upload is."""
    return DashboardBackend(
        accounts=accounts,
        keys=keys,
        analyze=analyze,
        session_ttl=timedelta(seconds=options.session_ttl_s),
        always_secure_cookies=options.secure_cookies == "always",
        media_sources=media_sources,
        trusted_proxies=options.trusted_proxies,
        reports=reports,
        reports_retention=reports_retention,
        form_rate=form_rate,
        subjects=subjects,
    )


router = APIRouter(include_in_schema=False)


def mount(app: FastAPI, backend: DashboardBackend) -> None:
    """Serves the dashboard from `app` with this backend."""
    app.state.dashboard = backend
    app.include_router(router)


def _board(request: Request) -> DashboardBackend:
    return request.app.state.dashboard


Board = Annotated[DashboardBackend, Depends(_board)]


def _page(board: DashboardBackend, template: str, status_code: int = 200, **context) -> HTMLResponse:
    html = _templates.get_template(template).render(prefix=PREFIX, **context)
    return _secured(board, HTMLResponse(html, status_code=status_code))


def _secured(board: DashboardBackend, response: Response) -> Response:
    media = " ".join(("'self'", "blob:", *board.media_sources))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        f"media-src {media}; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # signed video URLs must not leak via Referer
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _set_cookie(
    board: DashboardBackend,
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age_s: int,
    same_site: str = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age_s,
        path=PREFIX,
        httponly=True,
        samesite=same_site,
        secure=board.always_secure_cookies or _is_https(request),
    )


def client_address(peer: str | None, forwarded_for: list[str], trusted_proxies: tuple[str, ...]) -> str:
    """The address sign-ins are counted under: the connection's peer, unless the peer is a trusted proxy; then the
    nearest X-Forwarded-For hop (from the right, where each proxy appends its own peer) that is not one. Hops a
    client wrote itself sit left of that and are never reached, so a client cannot pick its own address."""
    networks = [ipaddress.ip_network(proxy) for proxy in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    address = peer or "unknown"
    if not trusted(address):
        return address
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            hop = str(ipaddress.ip_address(hop))
        except ValueError:
            return address  # a malformed hop: count under the last address a trusted proxy vouched for
        if not trusted(hop):
            return hop
        address = hop
    return address


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _signed_in(board: DashboardBackend, request: Request) -> tuple[Account, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    account = await asyncio.to_thread(board.accounts.account_for_session, token)
    return None if account is None else (account, token)


async def _session(board: DashboardBackend, request: Request) -> tuple[Account, str] | Response:
    """The signed-in account and its session token, or the response to send instead: the login page when nobody is
    signed in."""
    signed_in = await _signed_in(board, request)
    return _redirect(f"{PREFIX}/login") if signed_in is None else signed_in


async def _read_form(board: DashboardBackend, request: Request) -> FormData:
    """The posted form, bounded before it is parsed: body bytes counted as they stream in (so a missing or false
    Content-Length does not help), no file parts, a few small fields, the minimum rate (a sign-in form needs no key,
    so a trickled one must not hold a connection for long). Over a bound: an HttpError of the table."""
    return await read_form(
        request,
        max_body_bytes=FORM_MAX_BODY_BYTES,
        max_files=0,
        max_fields=FORM_MAX_FIELDS,
        max_part_bytes=FORM_MAX_FIELD_BYTES,
        what="Form",
        min_rate=board.form_rate,
    )


def _refused(board: DashboardBackend, refused: HttpError) -> Response:
    """A refused form as a page: the status and the reason from the error table, in the dashboard's look."""
    status, detail, _ = answer_for(refused)
    return _page(
        board, "message.html", status, title="Request refused", message=f"{detail} Reload the page and try again."
    )


async def _session_form(board: DashboardBackend, request: Request) -> tuple[Account, str, FormData] | Response:
    """As _session, for form posts: also the form, whose CSRF token must match the session's (403 otherwise)."""
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    try:
        form = await _read_form(board, request)
    except HttpError as refused:
        return _refused(board, refused)
    if not csrf_matches(csrf_token(signed_in[1]), form.get("csrf")):
        return _forbidden(board)
    return (*signed_in, form)


@router.get(PREFIX)
async def home(request: Request, board: Board) -> Response:
    return _redirect(f"{PREFIX}/keys" if await _signed_in(board, request) else f"{PREFIX}/login")


@router.get(PREFIX + "/login")
async def login_form(request: Request, board: Board) -> Response:
    if await _signed_in(board, request):
        return _redirect(f"{PREFIX}/keys")
    return _login_page(board, request, error=None)


def _login_page(
    board: DashboardBackend,
    request: Request,
    error: str | None,
    status_code: int = 200,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    login_secret = secrets.token_urlsafe(32)
    response = _page(board, "login.html", status_code, csrf=csrf_token(login_secret), error=error, email=email)
    response.headers.update(headers or {})
    _set_cookie(board, request, response, LOGIN_COOKIE, login_secret, 3600, same_site="strict")
    return response


@router.post(PREFIX + "/login")
async def login(request: Request, board: Board) -> Response:
    try:
        form = await _read_form(board, request)
    except HttpError as refused:
        status, detail, _ = answer_for(refused)
        return _login_page(board, request, detail, status)
    login_secret = request.cookies.get(LOGIN_COOKIE)
    if not login_secret or not login_secret.isascii() or not csrf_matches(csrf_token(login_secret), form.get("csrf")):
        return _login_page(board, request, "Your sign-in form expired; please try again.", 403)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    client_ip = client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        board.trusted_proxies,
    )
    result = await asyncio.to_thread(board.accounts.verify_login, email, password, client_ip)
    if result.throttled:
        minutes = -(-result.retry_after_s // 60)
        return _login_page(
            board,
            request,
            f"Too many failed sign-ins. Try again in {minutes} min.",
            429,
            email,
            {"Retry-After": str(result.retry_after_s)},
        )
    if result.account is None:
        return _login_page(board, request, "Wrong email or password.", 401, email)
    token = await asyncio.to_thread(board.accounts.create_session, result.account, board.session_ttl)
    response = _redirect(f"{PREFIX}/keys")
    _set_cookie(board, request, response, SESSION_COOKIE, token, int(board.session_ttl.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post(PREFIX + "/logout")
async def logout(request: Request, board: Board) -> Response:
    signed_in = await _signed_in(board, request)
    if signed_in is not None:
        try:
            form = await _read_form(board, request)
        except HttpError as refused:
            return _refused(board, refused)
        if not csrf_matches(csrf_token(signed_in[1]), form.get("csrf")):
            return _forbidden(board)
        await asyncio.to_thread(board.accounts.end_session, signed_in[1])
    response = _redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def _forbidden(board: DashboardBackend) -> Response:
    return _page(
        board,
        "message.html",
        403,
        title="Request refused",
        message="The form was missing its security token or it did not match your session. "
        "Reload the page and try again.",
    )


def _key_rows(records: list[KeyRecord], now: datetime) -> list[dict]:
    def when(moment: datetime | None, missing: str) -> str:
        return missing if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")

    return [
        {
            "name": r.name,
            "prefix": r.prefix,
            "created": when(r.created_at, ""),
            "expires": when(r.expires_at, "Never"),
            "last_used": when(r.last_used_at, "Never"),
            "status": r.status(now),
        }
        for r in reversed(records)
    ]


async def _keys_page(
    board: DashboardBackend, account: Account, token: str, status_code: int = 200, **context
) -> Response:
    records = await asyncio.to_thread(board.keys.list_keys, account.owner)
    return _page(
        board,
        "keys.html",
        status_code,
        account=account,
        csrf=csrf_token(token),
        tab="keys",
        keys=_key_rows(records, board.clock()),
        expiry_labels=EXPIRY_LABELS,
        **context,
    )


@router.get(PREFIX + "/keys")
async def keys_tab(request: Request, board: Board) -> Response:
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    return await _keys_page(board, *signed_in)


@router.post(PREFIX + "/keys")
async def generate_key(request: Request, board: Board) -> Response:
    signed_in = await _session_form(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    account, token, form = signed_in
    name, expiry = str(form.get("name", "")).strip(), str(form.get("expires", ""))
    if not name or expiry not in EXPIRY_CHOICES:
        return await _keys_page(board, account, token, 422, error="Enter a name and choose an expiry.")
    try:
        full_key, record = await asyncio.to_thread(board.keys.create_key, account.owner, name, EXPIRY_CHOICES[expiry])
    except ValueError as error:
        return await _keys_page(board, account, token, 422, error=str(error).capitalize() + ".")
    return await _keys_page(board, account, token, new_key=full_key, new_key_name=record.name)


@router.get(PREFIX + "/keys/revoke")
async def confirm_revoke(request: Request, board: Board, prefix: str = "") -> Response:
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    account, token = signed_in
    records = await asyncio.to_thread(board.keys.list_keys, account.owner)
    record = next((r for r in records if r.prefix == prefix and r.revoked_at is None), None)
    if record is None:  # another account's key looks exactly like a key that does not exist
        return _page(
            board,
            "message.html",
            404,
            title="No such key",
            account=account,
            csrf=csrf_token(token),
            message="You have no active key with that prefix.",
        )
    return _page(
        board,
        "revoke.html",
        account=account,
        csrf=csrf_token(token),
        tab="keys",
        key=_key_rows([record], board.clock())[0],
    )


@router.post(PREFIX + "/keys/revoke")
async def revoke_key(request: Request, board: Board) -> Response:
    signed_in = await _session_form(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    account, token, form = signed_in
    prefix = str(form.get("prefix", ""))
    if not await asyncio.to_thread(board.keys.revoke, account.owner, prefix):
        return await _keys_page(board, account, token, 404, error="You have no active key with that prefix.")
    return await _keys_page(
        board, account, token, notice=f"Revoked {prefix}. Requests with it are rejected within 5 seconds."
    )


def _history_rows(records) -> list[dict]:
    def when(moment: datetime | None) -> str:
        return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")

    return [
        {
            "id": r.id,
            "kind": "Upload" if r.source == "dashboard" else "Job",
            "analysis": r.analysis,
            "status": r.status,
            "created": when(r.created_at),
            "finished": when(r.finished_at),
            "overall": "–" if r.overall_score is None else f"{r.overall_score:g}",
            "error": r.error_detail if r.status == "failed" else None,
        }
        for r in records
    ]


@router.get(PREFIX + "/reports")
async def reports_tab(request: Request, board: Board) -> Response:
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    account, token = signed_in
    history = (
        [] if board.reports is None else await asyncio.to_thread(board.reports.history, account.owner, HISTORY_ROWS)
    )
    return _page(
        board, "reports.html", account=account, csrf=csrf_token(token), tab="reports", history=_history_rows(history)
    )


@router.get(PREFIX + "/reports/progress")
async def report_progress(request: Request, board: Board, subject: str = "") -> Response:
    """For the progress chart, from the same store as GET /api/v1/subjects/{subject}/progress: the account's
    subjects, and the overall and category scores of one subject's sessions over time (`subject`, or the one with
    the latest session), oldest first."""
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        raise SignInRequired()
    owner = signed_in[0].owner
    if subject and SUBJECT_PATTERN.fullmatch(subject) is None:
        raise NotFound()
    subjects = (
        []
        if board.subjects is None
        else (await asyncio.to_thread(board.subjects.subjects, owner, PROGRESS_SUBJECTS))[0]
    )
    latest = max(subjects, key=lambda s: s.last_at).subject if subjects else None
    chosen = subject or latest
    sessions = [] if chosen is None else await asyncio.to_thread(board.subjects.earlier, owner, chosen, PROGRESS_POINTS)
    return _secured(
        board,
        JSONResponse(
            {
                "subjects": [s.subject for s in subjects],
                "subject": chosen,
                "points": [
                    {
                        "at": s.at.isoformat().replace("+00:00", "Z"),
                        "overall_score": s.scores.get("overall"),
                        "category_scores": {name: s.scores.get(name) for name in CATEGORIES},
                    }
                    for s in sessions
                ],
            }
        ),
    )


@router.get(PREFIX + "/reports/{report_id}")
async def stored_report(request: Request, board: Board, report_id: str) -> Response:
    """A stored report (a job's or an upload's), reopened in the report view."""
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        return signed_in
    account, token = signed_in
    record = await _own_report(board, account, report_id)
    return _page(
        board, "reports.html", account=account, csrf=csrf_token(token), tab="reports", report=_history_rows([record])[0]
    )


@router.get(PREFIX + "/reports/{report_id}/data")
async def stored_report_data(request: Request, board: Board, report_id: str) -> Response:
    signed_in = await _session(board, request)
    if isinstance(signed_in, Response):
        raise SignInRequired()
    record = await _own_report(board, signed_in[0], report_id)
    return _secured(
        board,
        JSONResponse(
            {
                "analysis": record.analysis,
                "status": record.status,
                "error": record.error_detail,
                "result": record.result,
            }
        ),
    )


async def _own_report(board: DashboardBackend, account: Account, report_id: str):
    """The account's report; another account's is a 404 like one that does not exist."""
    from softskills.jobs.errors import JobNotFound
    from softskills.jobs.store import is_job_id

    if board.reports is None or not is_job_id(report_id):
        raise NotFound()
    try:
        return await asyncio.to_thread(board.reports.get, account.owner, report_id)
    except JobNotFound:
        raise NotFound() from None


@router.post(PREFIX + "/reports/analyze")
async def analyze_upload(request: Request, board: Board) -> Response:
    """The same pipeline as full-analysis; the session (plus the CSRF header) authorises it instead of a key. Its
    answer, or why the video could not be analysed, is kept in the account's report history."""
    signed_in = await _signed_in(board, request)
    if signed_in is None:
        raise SignInRequired()
    if not csrf_matches(csrf_token(signed_in[1]), request.headers.get(CSRF_HEADER)):
        raise Forbidden("Missing or wrong CSRF token.")
    owner = signed_in[0].owner
    try:
        result = await board.analyze(request, owner)
    except Exception as exc:
        found = answer_for(exc)
        if found is not None and found[0] in (415, 422, 500, 504):  # the video was analysed, or failed to be
            await _record_report(board, owner, None, (found[0], found[1]))
        raise
    await _record_report(board, owner, result, None)
    return _secured(board, JSONResponse(result.body))


async def _record_report(
    board: DashboardBackend, owner: str, result: Result | None, error: tuple[int, str] | None
) -> None:
    """Keeps an upload's report; failing to keep it never costs the answer."""
    if board.reports is None:
        return
    try:
        await asyncio.to_thread(
            board.reports.record_report,
            owner,
            "full-analysis",
            None if result is None else result.body,
            None if result is None else result.summary,
            error,
            board.reports_retention,
            {"analysis": "full-analysis"},
        )
    except Exception as exc:
        logger.warning("could not keep the upload's report: %s", type(exc).__name__)


@router.get(PREFIX + "/static/{name}")
async def static_file(name: str) -> Response:
    entry = STATIC_FILES.get(name)
    if entry is None:
        raise NotFound()
    path, media_type = entry
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
