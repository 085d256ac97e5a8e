"""Dashboard routes in-process (no Ray): sign-in, cookies, CSRF, the API Keys tab, owner scoping, uploads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from softskills.api.errors import install_error_handler
from softskills.auth.accounts import AccountStore, LoginPolicy
from softskills.auth.keys import KEY_PATTERN
from softskills.auth.service import Authenticator
from softskills.auth.store import KeyStore
from softskills.dashboard import routes
from softskills.jobs.store import Result, Summary
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock  # noqa: F401

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class Dashboard:
    def __init__(self, tmp_path, clock):
        url = f"sqlite:///{tmp_path / 'dashboard.db'}"
        self.clock = clock
        self.keys = KeyStore(url, pepper=TEST_PEPPER, clock=clock)
        self.accounts = AccountStore(
            url,
            clock=clock,
            hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
            policy=LoginPolicy(max_failures_per_email=3),
        )
        self.uploads: list[tuple[str, int, str]] = []
        self.app = FastAPI()
        routes.mount(self.app, routes.DashboardBackend(self.accounts, self.keys, self._record_upload, clock=clock))
        install_error_handler(self.app)

    @property
    def backend(self) -> routes.DashboardBackend:
        return self.app.state.dashboard

    async def _record_upload(self, request: Request, owner: str) -> Result:
        """Stands in for the ingress pipeline: the route test only checks what reaches it."""
        form = await request.form()
        video = form["video"]
        self.uploads.append((video.filename, len(await video.read()), owner))
        return Result({"received": video.filename}, Summary(None, None))

    def client(self, **kwargs) -> TestClient:
        return TestClient(self.app, **kwargs)

    def signed_in(self, email: str) -> TestClient:
        client = self.client()
        response = sign_in(client, email, PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/dashboard/keys"
        return client


def sign_in(client: TestClient, email: str, password: str):
    csrf = _CSRF.search(client.get("/dashboard/login").text).group(1)
    return client.post(
        "/dashboard/login", data={"csrf": csrf, "email": email, "password": password}, follow_redirects=False
    )


def csrf_of(client: TestClient) -> str:
    return _CSRF.search(client.get("/dashboard/keys").text).group(1)


def generate(client: TestClient, name: str, expires: str = "90d") -> str:
    page = client.post("/dashboard/keys", data={"csrf": csrf_of(client), "name": name, "expires": expires})
    assert page.status_code == 200
    return re.search(r'id="new-key-value" type="text" readonly value="([^"]+)"', page.text).group(1)


def rows(client: TestClient) -> dict[str, list[str]]:
    """The keys table: prefix -> [name, prefix, created, expires, last used, status]."""
    html = client.get("/dashboard/keys").text
    table = {}
    for prefix, row in re.findall(r'<tr data-prefix="([^"]+)">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        table[prefix] = cells[:6]
    return table


@pytest.fixture
def dashboard(tmp_path, clock):
    board = Dashboard(tmp_path, clock)
    board.accounts.create_account("alice@example.com", PASSWORD)
    board.accounts.create_account("bob@example.com", PASSWORD)
    yield board


def test_sign_in_sets_a_hardened_session_cookie(dashboard):
    client = dashboard.client()
    assert client.get("/dashboard/keys", follow_redirects=False).headers["location"] == "/dashboard/login"
    response = sign_in(client, "alice@example.com", PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ss_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http (a local make serve)
    page = client.get("/dashboard/keys")
    assert page.status_code == 200 and "alice@example.com" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_cookie_is_secure_behind_https(dashboard):
    client = dashboard.client(base_url="https://dashboard.example")
    cookie = next(
        c
        for c in sign_in(client, "alice@example.com", PASSWORD).headers.get_list("set-cookie")
        if c.startswith("ss_session=")
    )
    assert "Secure" in cookie
    proxied = dashboard.client(headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in sign_in(proxied, "bob@example.com", PASSWORD).headers["set-cookie"]


def test_wrong_password_then_rate_limit(dashboard):
    client = dashboard.client()
    for _ in range(3):
        response = sign_in(client, "alice@example.com", "wrong password!")
        assert response.status_code == 401 and "Wrong email or password." in response.text
    throttled = sign_in(client, "alice@example.com", PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) == 15 * 60 + 1
    assert "ss_session" not in client.cookies
    dashboard.clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(client, "alice@example.com", PASSWORD).status_code == 303


def test_sign_in_form_needs_its_csrf_token(dashboard):
    client = dashboard.client()
    client.get("/dashboard/login")
    forged = client.post(
        "/dashboard/login",
        data={"csrf": "0" * 64, "email": "alice@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "ss_session" not in client.cookies
    cookieless = dashboard.client()  # a cross-site form post carries no SameSite=Strict login cookie
    token = _CSRF.search(dashboard.client().get("/dashboard/login").text).group(1)
    assert (
        cookieless.post(
            "/dashboard/login", data={"csrf": token, "email": "alice@example.com", "password": PASSWORD}
        ).status_code
        == 403
    )


def test_generated_key_is_shown_once_then_only_its_prefix(dashboard):
    client = dashboard.signed_in("alice@example.com")
    full_key = generate(client, "Production Key", "90d")
    assert KEY_PATTERN.fullmatch(full_key)
    listed = client.get("/dashboard/keys").text
    assert full_key not in listed and full_key[13:] not in listed
    prefix = full_key[:13]
    name, shown_prefix, created, expires, last_used, status = rows(client)[prefix]
    assert (name, shown_prefix, last_used, status) == ("Production Key", f"{prefix}…", "Never", "active")
    assert created == "2025-03-01 12:00 UTC" and expires == "2025-05-30 12:00 UTC"  # 90 days
    authenticator = Authenticator(dashboard.keys, cache_ttl_s=0, clock=dashboard.clock)
    caller = authenticator.authenticate({"Authorization": f"Bearer {full_key}"})
    assert caller is not None and caller.owner == "alice@example.com"
    assert rows(client)[prefix][4] == "2025-03-01 12:00 UTC"  # last used


@pytest.mark.parametrize(
    ("choice", "expires"), [("30d", "2025-03-31 12:00 UTC"), ("1y", "2026-03-01 12:00 UTC"), ("never", "Never")]
)
def test_expiry_choices(dashboard, choice, expires):
    client = dashboard.signed_in("alice@example.com")
    prefix = generate(client, f"key {choice}", choice)[:13]
    assert rows(client)[prefix][3] == expires


def test_expired_key_is_listed_as_expired(dashboard):
    client = dashboard.signed_in("alice@example.com")
    prefix = generate(client, "short", "30d")[:13]
    dashboard.clock.advance(timedelta(days=30))
    client = dashboard.signed_in("alice@example.com")  # the 8 h session ended meanwhile
    assert rows(client)[prefix][5] == "expired"


def test_forms_without_the_session_csrf_token_are_refused(dashboard):
    alice, bob = dashboard.signed_in("alice@example.com"), dashboard.signed_in("bob@example.com")
    for token in (None, "", csrf_of(bob)):
        data = {"name": "forged", "expires": "never"} | ({"csrf": token} if token is not None else {})
        assert alice.post("/dashboard/keys", data=data).status_code == 403
    assert dashboard.keys.list_keys("alice@example.com") == []
    prefix = generate(alice, "real")[:13]
    assert alice.post("/dashboard/keys/revoke", data={"csrf": csrf_of(bob), "prefix": prefix}).status_code == 403
    assert rows(alice)[prefix][5] == "active"
    assert alice.post("/dashboard/logout", data={"csrf": "nope"}).status_code == 403


def test_accounts_see_and_revoke_only_their_own_keys(dashboard):
    alice, bob = dashboard.signed_in("alice@example.com"), dashboard.signed_in("bob@example.com")
    alice_prefix = generate(alice, "Alice's key")[:13]
    bob_prefix = generate(bob, "Bob's key")[:13]
    assert list(rows(alice)) == [alice_prefix] and list(rows(bob)) == [bob_prefix]
    assert bob.get(f"/dashboard/keys/revoke?prefix={alice_prefix}").status_code == 404
    refused = bob.post("/dashboard/keys/revoke", data={"csrf": csrf_of(bob), "prefix": alice_prefix})
    assert refused.status_code == 404
    assert rows(alice)[alice_prefix][5] == "active"

    confirm = alice.get(f"/dashboard/keys/revoke?prefix={alice_prefix}")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
    done = alice.post("/dashboard/keys/revoke", data={"csrf": csrf_of(alice), "prefix": alice_prefix})
    assert done.status_code == 200 and f"Revoked {alice_prefix}" in done.text
    assert rows(alice)[alice_prefix][5] == "revoked" and rows(bob)[bob_prefix][5] == "active"


def test_sign_out_ends_the_session(dashboard):
    client = dashboard.signed_in("alice@example.com")
    session = client.cookies["ss_session"]
    response = client.post("/dashboard/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
    assert dashboard.accounts.account_for_session(session) is None
    stale = dashboard.client(cookies={"ss_session": session})
    assert stale.get("/dashboard/keys", follow_redirects=False).headers["location"] == "/dashboard/login"


def test_upload_is_authorised_by_the_session_and_csrf_header(dashboard):
    video = {"video": ("talk.mp4", b"\x00" * 2048, "video/mp4")}
    anonymous = dashboard.client()
    assert anonymous.post("/dashboard/reports/analyze", files=video).status_code == 401
    client = dashboard.signed_in("alice@example.com")
    page = client.get("/dashboard/reports")
    token = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page.text).group(1)
    assert client.post("/dashboard/reports/analyze", files=video).status_code == 403
    assert (
        client.post(
            "/dashboard/reports/analyze",
            files=video,
            headers={"X-CSRF-Token": csrf_of(dashboard.signed_in("bob@example.com"))},
        ).status_code
        == 403
    )
    assert dashboard.uploads == []
    response = client.post("/dashboard/reports/analyze", files=video, headers={"X-CSRF-Token": token})
    assert response.status_code == 200 and response.json() == {"received": "talk.mp4"}
    assert dashboard.uploads == [("talk.mp4", 2048, "alice@example.com")]  # stored under alice's quota


def test_plotly_is_served_locally(dashboard):
    client = dashboard.client()
    bundle = client.get("/dashboard/static/plotly.min.js")
    assert bundle.status_code == 200 and b"plotly.js" in bundle.content[:2000]
    assert client.get("/dashboard/static/../routes.py").status_code == 404
    page = dashboard.signed_in("alice@example.com").get("/dashboard/reports").text
    assert 'src="/dashboard/static/plotly.min.js"' in page and "cdn" not in page.lower()


# Hostile forms: each is refused by the body or parser bounds, before any CSRF check or sign-in.
TEN_MB = 10 * 1024 * 1024
HOSTILE_FORMS = {
    "1000 fields": (
        {"data": {f"field{i}": "x" for i in range(1000)}},
        422,
        "Too many fields. Maximum number of fields is 4.",
    ),
    "a 10 MB field": ({"data": {"password": "x" * TEN_MB}}, 413, "Form larger than the 32 KB limit"),
    "a 20 KB field": ({"data": {"name": "x" * 20 * 1024}}, 422, "Field exceeded maximum size of 16KB."),
    "a file part": (
        {"data": {"csrf": "0" * 64}, "files": {"video": ("talk.mp4", b"\x00" * 4096, "video/mp4")}},
        422,
        "Too many files. Maximum number of files is 0.",
    ),
}
FORM_ROUTES = ["/dashboard/login", "/dashboard/keys", "/dashboard/keys/revoke", "/dashboard/logout"]


@pytest.mark.parametrize("route", FORM_ROUTES)
@pytest.mark.parametrize("hostile", list(HOSTILE_FORMS))
def test_hostile_forms_are_refused_before_parsing(dashboard, route, hostile):
    request, status, message = HOSTILE_FORMS[hostile]
    client = dashboard.client() if route == "/dashboard/login" else dashboard.signed_in("alice@example.com")
    if route == "/dashboard/login":
        client.get("/dashboard/login")  # a real pre-session cookie: only the bounds can refuse it
    response = client.post(route, follow_redirects=False, **request)
    assert response.status_code == status and message in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "ss_session" not in response.headers.get("set-cookie", "")
    # the dashboard still answers normally afterwards: a sign-in, then a key
    assert generate(dashboard.signed_in("bob@example.com"), "after a hostile form").startswith("ng_")


def _post_endless_body(app, path: str, headers: list[tuple[bytes, bytes]], cap_bytes: int = 64 * 1024 * 1024):
    """POSTs a body of up to cap_bytes without Content-Length straight to the ASGI app (the TestClient would read
    it whole first); returns the status and how many body bytes the app pulled."""
    chunk = b"a=" + b"b" * (64 * 1024 - 2)
    pulled = 0

    async def receive():
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < cap_bytes}

    status, _ = _post_raw(app, path, headers, receive)
    return status, min(pulled, cap_bytes)


def _post_raw(app, path: str, headers: list[tuple[bytes, bytes]], receive) -> tuple[int, str]:
    """POSTs a form straight to the ASGI app with the given receive; the answer's status and body."""
    import asyncio

    answer = {"body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded"), *headers],
        "client": ("203.0.113.5", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["body"].decode()


@pytest.mark.parametrize("route", FORM_ROUTES)
def test_endless_body_without_content_length_is_cut_off_at_the_limit(dashboard, route):
    account = dashboard.accounts.find_account("alice@example.com")
    session = dashboard.accounts.create_session(account, timedelta(hours=1))
    cookie = (b"cookie", f"ss_session={session}; ss_login=pre-session-secret".encode())
    status, pulled = _post_endless_body(dashboard.app, route, [cookie])
    assert status == 413
    assert pulled <= routes.FORM_MAX_BODY_BYTES + 64 * 1024  # one chunk past the limit, not 64 MB
    assert dashboard.accounts.account_for_session(session) == account  # a refused logout form ends nothing
    assert dashboard.signed_in("alice@example.com").get("/dashboard/keys").status_code == 200


def test_a_trickled_sign_in_form_is_dropped_at_the_minimum_rate(dashboard):
    """Signing in needs no key, so anyone could hold a connection with a form sent a byte at a time: it is dropped
    (408) once a window brings less than the minimum rate, as an upload is."""
    import asyncio
    import time

    from softskills.api.limits import MinimumRate

    dashboard.backend.form_rate = MinimumRate(bytes_per_s=1000, window_s=0.2, grace_s=0.1)
    sent = []

    async def receive():
        if sent:
            await asyncio.sleep(60)
        sent.append(b"c")
        return {"type": "http.request", "body": b"c", "more_body": True}

    started = time.monotonic()
    status, page = _post_raw(dashboard.app, "/dashboard/login", [], receive)
    assert status == 408 and time.monotonic() - started < 5
    assert "Form slower than the minimum of 1000 bytes per second (averaged over 0.2 s)" in page
    assert sign_in(dashboard.client(), "alice@example.com", PASSWORD).status_code == 303


def test_declared_oversize_body_is_refused_unread(dashboard):
    status, pulled = _post_endless_body(dashboard.app, "/dashboard/login", [(b"content-length", b"10000000000")])
    assert (status, pulled) == (413, 0)
    assert sign_in(dashboard.client(), "alice@example.com", PASSWORD).status_code == 303


def test_parallel_wrong_passwords_get_at_most_the_limit_of_checks(dashboard):
    """Twelve sign-ins at once against a limit of 3: three are checked (401), the others refused unchecked (429)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clients = [dashboard.client() for _ in range(12)]
    tokens = [_CSRF.search(client.get("/dashboard/login").text).group(1) for client in clients]
    start = threading.Barrier(len(clients))

    def attempt(index: int) -> int:
        start.wait()
        return (
            clients[index]
            .post(
                "/dashboard/login",
                data={"csrf": tokens[index], "email": "alice@example.com", "password": "wrong password!"},
            )
            .status_code
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = sorted(pool.map(attempt, range(len(clients))))
    assert statuses == [401] * 3 + [429] * 9
    assert sign_in(dashboard.client(), "alice@example.com", PASSWORD).status_code == 429
    assert sign_in(dashboard.client(), "bob@example.com", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", ["203.0.113.1"], "198.51.100.7"),  # not a proxy: its X-Forwarded-For is ignored
        ("10.0.0.2", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", ["1.2.3.4, 203.0.113.1"], "203.0.113.1"),  # the client's own prefix is never reached
        ("10.0.0.2", ["1.2.3.4", "203.0.113.1, 10.0.0.3"], "203.0.113.1"),  # two proxies, two headers
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["not-an-address"], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.9"], "10.0.0.9"),  # proxies all the way: the farthest one
        ("testclient", ["203.0.113.1"], "testclient"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(peer, forwarded, expected):
    assert routes.client_address(peer, forwarded, ("10.0.0.0/8",)) == expected


def _throttled_by_address(dashboard, trusted_proxies: tuple[str, ...]):
    """The dashboard with a per-address limit of 3 failures, behind the given trusted proxies."""
    import dataclasses

    accounts = AccountStore(
        f"sqlite:///{dashboard.keys._engine.url.database}",
        clock=dashboard.clock,
        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        policy=LoginPolicy(max_failures_per_email=3, max_failures_per_ip=3),
    )
    dashboard.app.state.dashboard = dataclasses.replace(
        dashboard.backend, accounts=accounts, trusted_proxies=trusted_proxies
    )


def _sign_in_from(dashboard, peer: str, email: str, password: str, forwarded_for: str | None = None) -> int:
    client = dashboard.client(client=(peer, 40000))
    token = _CSRF.search(client.get("/dashboard/login").text).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/dashboard/login",
        data={"csrf": token, "email": email, "password": password},
        headers=headers,
        follow_redirects=False,
    ).status_code


def test_forged_forwarded_for_does_not_escape_the_address_limit(dashboard):
    _throttled_by_address(dashboard, trusted_proxies=())
    for index in range(3):
        assert (
            _sign_in_from(
                dashboard,
                "198.51.100.7",
                f"guess{index}@example.com",
                "wrong password!",
                forwarded_for=f"203.0.113.{index}",
            )
            == 401
        )
    assert _sign_in_from(dashboard, "198.51.100.7", "bob@example.com", PASSWORD, forwarded_for="203.0.113.99") == 429
    assert _sign_in_from(dashboard, "198.51.100.8", "bob@example.com", PASSWORD) == 303


def test_trusted_proxy_forwarded_for_names_the_client(dashboard):
    _throttled_by_address(dashboard, trusted_proxies=("10.0.0.0/8",))
    for index in range(3):
        assert (
            _sign_in_from(
                dashboard,
                "10.0.0.2",
                f"guess{index}@example.com",
                "wrong password!",
                forwarded_for=f"192.0.2.{index}, 198.51.100.7",
            )
            == 401
        )
    assert _sign_in_from(dashboard, "10.0.0.2", "bob@example.com", PASSWORD, forwarded_for="198.51.100.7") == 429
    assert _sign_in_from(dashboard, "10.0.0.2", "bob@example.com", PASSWORD, forwarded_for="198.51.100.8") == 303


def test_trusted_proxies_must_be_addresses_or_networks():
    from pydantic import ValidationError

    from softskills.config.options import DashboardOptions

    assert DashboardOptions(trusted_proxies=["10.0.0.1", "fd00::/8"]).trusted_proxies == ("10.0.0.1/32", "fd00::/8")
    assert DashboardOptions().trusted_proxies == ()
    with pytest.raises(ValidationError):
        DashboardOptions(trusted_proxies=["proxy.example.com"])
