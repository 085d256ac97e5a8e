"""How one ingress replica takes a request in, the same for every route that receives an upload (the analyses, jobs,
the dashboard's uploads): its limits, the API key check, the upload slots, and the request metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.requests import Request

from softskills.api.errors import AuthUnavailable, Unauthorized, status_for
from softskills.api.limits import Uploads
from softskills.auth.service import Authenticator
from softskills.config.options import HttpOptions

logger = logging.getLogger("ray.serve")

ObserveRequest = Callable[[str, int, float], None]  # (endpoint, status, seconds): counted in the request metrics
Answer = tuple[int, dict, dict]  # (status, body, headers)


class ApiKeys:
    """The API key check, in a worker thread (the key store is a database): the key's owner, or the one 401; a key
    store that cannot be reached is a 503, not the caller's fault."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def owner(self, request: Request) -> str:
        try:
            key = await asyncio.to_thread(self._authenticator.authenticate, request.headers)
        except Exception as exc:
            logger.error("key store unavailable: %s", type(exc).__name__)
            raise AuthUnavailable() from None
        if key is None:
            raise Unauthorized()
        return key.owner


@dataclass(frozen=True)
class Intake:
    limits: HttpOptions
    observable_only: bool  # the service's configured mode: every form is read under it
    keys: ApiKeys
    uploads: Uploads  # the replica's upload slots, shared by every route that receives one
    observe_request: ObserveRequest


async def respond(intake: Intake, endpoint: str, work: Awaitable[Answer]) -> JSONResponse:
    """Runs a JSON route's work; logs one line (with Serve's request id) and counts it, as the analyses do. Errors go
    on to the app's one handler (an unexpected one is logged there with its traceback)."""
    started, status = time.perf_counter(), 500
    try:
        status, body, headers = await work
        return JSONResponse(body, status_code=status, headers=headers or None)
    except Exception as exc:
        status = status_for(exc)
        raise
    finally:
        elapsed_s = time.perf_counter() - started
        intake.observe_request(endpoint, status, elapsed_s)
        logger.info("%s answered %d in %.2f s", endpoint, status, elapsed_s)
