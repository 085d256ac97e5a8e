"""Bounds on what a client can make the HTTP layer do before any analysis: how many bodies stream in at once (in
all, and per owner), how fast and how large each must be as it streams, the multipart parser's limits, and admission
(how many analyses run and wait)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from softskills.api.errors import BodyTooLarge, InvalidRequest, Overloaded, TooManyUploads, UploadsFull, UploadTooSlow
from softskills.config.options import HttpOptions

logger = logging.getLogger("ray.serve")


@dataclass(frozen=True)
class MinimumRate:
    """The slowest a body may stream: `bytes_per_s` on average over each window of `window_s`, the first window
    starting `grace_s` after the body is first read."""

    bytes_per_s: float
    window_s: float
    grace_s: float


class RateMeter:
    """One body's rate, measured in consecutive windows; a window that closes with fewer than `bytes_per_s *
    window_s` new bytes means the body is too slow. Time is passed in, so the rule is tested without waiting."""

    def __init__(self, rate: MinimumRate, started_s: float, what: str = "Upload"):
        self._rate, self._what = rate, what
        self._boundary_s = started_s + rate.grace_s  # where the current window (or the grace period) ends
        self._window_start_bytes: int | None = None  # None: still in the grace period

    def seconds_to_boundary(self, now_s: float) -> float:
        return max(0.0, self._boundary_s - now_s)

    def advance(self, now_s: float, received: int) -> None:
        """Closes every window that ended by `now_s`; `received` is the body's byte count, unchanged since the
        last call (so it is the count at each of those boundaries). UploadTooSlow if one brought too little."""
        while now_s >= self._boundary_s:
            if (
                self._window_start_bytes is not None
                and received - self._window_start_bytes < self._rate.bytes_per_s * self._rate.window_s
            ):
                raise UploadTooSlow(self._rate.bytes_per_s, self._rate.window_s, self._what)
            self._window_start_bytes = received
            self._boundary_s += self._rate.window_s


def limited_receive(
    receive,
    max_bytes: int,
    what: str = "Upload",
    min_rate: MinimumRate | None = None,
    clock: Callable[[], float] = time.monotonic,
):
    """Wraps an ASGI receive to count body bytes as they arrive, so an upload is stopped at the limit whatever its
    Content-Length said (or whether it sent one: chunked uploads have none), and, with `min_rate`, dropped once it
    streams slower than that, even while nothing arrives at all."""
    received = 0
    meter = None if min_rate is None else RateMeter(min_rate, clock(), what)

    async def next_message():
        if meter is None:
            return await receive()
        # A window may close while a receive is waiting: the receive is waited on again, never cancelled (which
        # could lose its message), unless the body turned out too slow.
        pending = asyncio.ensure_future(receive())
        try:
            while not pending.done():
                await asyncio.wait({pending}, timeout=meter.seconds_to_boundary(clock()))
                if not pending.done():
                    meter.advance(clock(), received)
        except BaseException:
            pending.cancel()
            raise
        return pending.result()

    async def limited():
        nonlocal received, meter
        message = await next_message()
        if message["type"] == "http.request":
            if meter is not None:
                meter.advance(clock(), received)  # the windows that closed before these bytes came
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(max_bytes, what)
            if not message.get("more_body", False):
                meter = None  # the body is complete: later receives wait for a disconnect, not for bytes
        return message

    return limited


def check_declared_size(request: Request, max_bytes: int, what: str = "Upload") -> None:
    """A Content-Length over the limit is refused before anything is read (or the key is even checked)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes, what)


async def read_form(
    request: Request,
    *,
    max_body_bytes: int,
    max_files: int,
    max_fields: int,
    max_part_bytes: int,
    what: str = "Upload",
    min_rate: MinimumRate | None = None,
):
    """Parses a multipart or urlencoded body under the given limits; bytes are counted as they stream in. `what`
    names the body in a 413 or 408 ("Upload", "Form")."""
    check_declared_size(request, max_body_bytes, what)
    limited = Request(request.scope, receive=limited_receive(request.receive, max_body_bytes, what, min_rate))
    try:
        return await limited.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_bytes)
    except (BodyTooLarge, UploadTooSlow):
        raise
    except (StarletteHTTPException, MultiPartException) as exc:
        detail = str(getattr(exc, "detail", None) or getattr(exc, "message", ""))
        if "Too many" in detail or "maximum size" in detail:  # the parser's own limits: it names which
            raise InvalidRequest(f"Invalid multipart body: {detail}") from None
        logger.info("unreadable multipart body")
        raise InvalidRequest() from None
    except Exception as exc:  # malformed in a way the parser did not name: the body is unusable
        logger.info("unreadable multipart body (%s)", type(exc).__name__)
        raise InvalidRequest() from None


class Uploads:
    """Receives the analysis endpoints' bodies (analyses, jobs, dashboard uploads) on one ingress replica: at most
    `max_concurrent_uploads` stream in at once, `max_uploads_per_owner` of them for one owner, each beyond refused
    at once before its body is read (503, and 429 for the owner over its share); each body is read in full — spooled
    to a temporary file — under the byte limits and the minimum rate, before any analysis slot is taken, so a slow
    upload holds an upload slot only."""

    def __init__(self, options: HttpOptions) -> None:
        self._options = options
        self.min_rate = (
            MinimumRate(options.min_upload_bytes_per_s, options.upload_rate_window_s, options.upload_grace_s)
            if options.min_upload_bytes_per_s > 0
            else None
        )
        self._in_flight: Counter[str] = Counter()

    @contextmanager
    def _slot(self, owner: str):
        o = self._options
        if self._in_flight[owner] >= o.max_uploads_per_owner:
            raise TooManyUploads(o.max_uploads_per_owner, o.retry_after_s)
        if self._in_flight.total() >= o.max_concurrent_uploads:
            raise UploadsFull(o.max_concurrent_uploads, o.retry_after_s)
        self._in_flight[owner] += 1
        try:
            yield
        finally:
            self._in_flight[owner] -= 1
            if not self._in_flight[owner]:
                del self._in_flight[owner]

    @asynccontextmanager
    async def form(self, request: Request, owner: str):
        """The owner's form, received in full; its upload slot is free again once it is, and the spooled upload
        is deleted when the block ends."""
        o = self._options
        with self._slot(owner):
            form = await read_form(
                request,
                max_body_bytes=o.max_upload_bytes,
                max_files=o.max_form_files,
                max_fields=o.max_form_fields,
                max_part_bytes=o.max_field_bytes,
                min_rate=self.min_rate,
            )
        try:
            yield form
        finally:
            await form.close()


class Admission:
    """At most `active` analyses run at once on a replica and `waiting` more wait for a slot; anything beyond is
    answered 503 at once, so a burst costs almost nothing and every caller gets JSON (Serve's own queue-full answer
    is plain text)."""

    def __init__(self, active: int, waiting: int, retry_after_s: int):
        self._slots = asyncio.Semaphore(active)
        self._capacity = active + waiting
        self._admitted = 0
        self.retry_after_s = retry_after_s

    def refuse_if_full(self) -> None:
        """503 now, before a body is read that could not be admitted anyway."""
        if self._admitted >= self._capacity:
            raise Overloaded(self.retry_after_s)

    @asynccontextmanager
    async def slot(self):
        self.refuse_if_full()
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1
