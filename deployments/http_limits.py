"""Bounds on what a client can make the HTTP layer do before any analysis: admission (how many requests run and
wait), the body size as it streams in, and the multipart parser's limits."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from softskills.deployments.errors import BodyTooLarge, InvalidRequest, Overloaded

logger = logging.getLogger("ray.serve")


def limited_receive(receive, max_bytes: int, what: str = "Upload"):
    """Wraps an ASGI receive to count body bytes as they arrive, so an upload is stopped at the limit whatever its
    Content-Length said (or whether it sent one: chunked uploads have none)."""
    received = 0

    async def limited():
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(max_bytes, what)
        return message

    return limited


def check_declared_size(request: Request, max_bytes: int, what: str = "Upload") -> None:
    """A Content-Length over the limit is refused before anything is read (or the key is even checked)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes, what)


async def read_form(request: Request, *, max_body_bytes: int, max_files: int, max_fields: int, max_part_bytes: int,
                    what: str = "Upload"):
    """Parses a multipart or urlencoded body under the given limits; bytes are counted as they stream in. `what`
    names the body in a 413 ("Upload", "Form")."""
    check_declared_size(request, max_body_bytes, what)
    limited = Request(request.scope, receive=limited_receive(request.receive, max_body_bytes, what))
    try:
        return await limited.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_bytes)
    except BodyTooLarge:
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


class Admission:
    """At most `active` analyses run at once on a replica and `waiting` more wait for a slot; anything beyond is
    answered 503 at once, before its body is read, so a burst costs almost nothing and every caller gets JSON
    (Serve's own queue-full answer is plain text)."""

    def __init__(self, active: int, waiting: int, retry_after_s: int):
        self._slots = asyncio.Semaphore(active)
        self._capacity = active + waiting
        self._admitted = 0
        self.retry_after_s = retry_after_s

    @asynccontextmanager
    async def slot(self):
        if self._admitted >= self._capacity:
            raise Overloaded(self.retry_after_s)
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1
