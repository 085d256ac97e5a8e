"""The one place where errors become HTTP answers: every exception the API, the dashboard and /media raise (and a
job's failure, recorded as the answer it would have been) is looked up in `ERROR_TABLE` (by class, most specific
first) for its status, its `{"detail": ...}` body and its headers. Anything not in the table is unexpected: logged
with its traceback under the request id, answered with the guide's 500 body, which carries nothing internal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException

from softskills.auth.service import UNAUTHORIZED_DETAIL, UNAUTHORIZED_HEADERS
from softskills.jobs.errors import (
    IdempotencyKeyReused,
    JobAlreadyFinished,
    JobNotFound,
    JobQueueUnavailable,
    JobsOff,
    JobTimedOut,
    JobUploadRefused,
    TooManyActiveJobs,
    WebhookSecretMissing,
    WebhookUrlRefused,
)
from softskills.models.errors import (
    AnalysisError,
    InvalidLandmarkSamples,
    InvalidMedia,
    InvalidTranscript,
    SpeakerNotFound,
    StageTimeout,
    UnsupportedMediaType,
)
from softskills.subjects.errors import InvalidSubject, SubjectNotFound, TooManySubjects

logger = logging.getLogger("ray.serve")

INVALID_BODY_DETAIL = "Missing or invalid request body."
SERVICE_ERROR_DETAIL = "Video analysis service error. Try a different format (e.g. MP4 or WebM) or shorter video."
OVERLOADED_DETAIL = "The service is busy. Retry after the number of seconds in the Retry-After header."
AUTH_UNAVAILABLE_DETAIL = "Authentication is temporarily unavailable; retry shortly."
AUTH_UNAVAILABLE_RETRY_AFTER_S = 5
# The pipeline's stage names, as a client reads them in a 504.
STAGE_LABELS = {
    "speech_to_text": "speech-to-text",
    "language": "language identification",
    "voice": "speech analysis",
    "speakers": "speaker detection",
    "face": "face landmarks",
    "pose": "body pose",
    "engine": "engine",
}


class HttpError(Exception):
    """Base of the errors raised by the HTTP layer itself (parsing, auth, admission, routes)."""


class InvalidRequest(HttpError):
    def __init__(self, detail: str = INVALID_BODY_DETAIL):
        super().__init__(detail)
        self.detail = detail


class Unauthorized(HttpError):
    """No valid API key."""


class AuthUnavailable(HttpError):
    """The key store could not be reached: not the caller's fault, so not a 401."""


class Overloaded(HttpError):
    def __init__(self, retry_after_s: int):
        super().__init__("overloaded")
        self.retry_after_s = retry_after_s


class UploadsFull(Overloaded):
    """Every upload slot of the replica is taken (`max_concurrent_uploads`)."""

    def __init__(self, limit: int, retry_after_s: int):
        super().__init__(retry_after_s)
        self.limit = limit


class TooManyUploads(HttpError):
    """The owner already has `max_uploads_per_owner` uploads streaming in: the caller's own doing, so a 429."""

    def __init__(self, limit: int, retry_after_s: int):
        super().__init__(f"over {limit} uploads for one owner")
        self.limit, self.retry_after_s = limit, retry_after_s


class BodyTooLarge(HttpError):
    def __init__(self, limit_bytes: int, what: str = "Upload"):
        super().__init__(f"body over {limit_bytes} bytes")
        self.limit_bytes, self.what = limit_bytes, what


class UploadTooSlow(HttpError):
    """A body that brought less than the minimum rate over a window: it held a connection for nothing."""

    def __init__(self, min_bytes_per_s: float, window_s: float, what: str = "Upload"):
        super().__init__(f"body under {min_bytes_per_s} bytes/s")
        self.min_bytes_per_s, self.window_s, self.what = min_bytes_per_s, window_s, what


def _size(n_bytes: float) -> str:
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:g} MB"
    return f"{n_bytes / 2**10:g} KB" if n_bytes >= 2**10 else f"{n_bytes:g} bytes"


class RequestTimeout(HttpError):
    def __init__(self, limit_s: float):
        super().__init__(f"request over {limit_s} s")
        self.limit_s = limit_s


class NotFound(HttpError):
    pass


class ServiceError(HttpError):
    """An unexpected failure, already logged with its traceback: answered with the guide's 500 body."""


class SignInRequired(HttpError):
    """A dashboard call whose session has ended (the dashboard's pages redirect to sign-in instead)."""


class Forbidden(HttpError):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Answer:
    status: int
    detail: Callable[[Exception], str]
    headers: Callable[[Exception], dict[str, str]] = lambda exc: {}


def _same(text: str) -> Callable[[Exception], str]:
    return lambda exc: text


ERROR_TABLE: dict[type[Exception], Answer] = {
    # The client's request
    InvalidRequest: Answer(422, lambda exc: exc.detail),
    RequestValidationError: Answer(422, _same(INVALID_BODY_DETAIL)),
    BodyTooLarge: Answer(413, lambda exc: f"{exc.what} larger than the {_size(exc.limit_bytes)} limit."),
    UploadTooSlow: Answer(
        408,
        lambda exc: (
            f"{exc.what} slower than the minimum of {_size(exc.min_bytes_per_s)} per "
            f"second (averaged over {exc.window_s:g} s); send it over a faster "
            "connection."
        ),
        lambda exc: {"Connection": "close"},
    ),
    TooManyUploads: Answer(
        429,
        lambda exc: (
            f"Too many uploads at once from this owner (the limit is {exc.limit}). "
            "Retry after the number of seconds in the Retry-After header."
        ),
        lambda exc: {"Retry-After": str(exc.retry_after_s)},
    ),
    Unauthorized: Answer(401, _same(UNAUTHORIZED_DETAIL), lambda exc: dict(UNAUTHORIZED_HEADERS)),
    Forbidden: Answer(403, lambda exc: exc.detail),
    SignInRequired: Answer(401, _same("Sign in again: your session has ended.")),
    NotFound: Answer(404, _same("Not Found")),
    StarletteHTTPException: Answer(0, lambda exc: str(exc.detail), lambda exc: dict(exc.headers or {})),
    # The upload and its fields
    UnsupportedMediaType: Answer(415, str),
    InvalidMedia: Answer(422, str),  # includes MediaLimitExceeded, which names the limit
    InvalidLandmarkSamples: Answer(422, str),
    InvalidTranscript: Answer(422, str),
    SpeakerNotFound: Answer(422, str),
    AnalysisError: Answer(500, _same(SERVICE_ERROR_DETAIL)),
    ServiceError: Answer(500, _same(SERVICE_ERROR_DETAIL)),
    # The service's state
    Overloaded: Answer(503, _same(OVERLOADED_DETAIL), lambda exc: {"Retry-After": str(exc.retry_after_s)}),
    UploadsFull: Answer(
        503,
        lambda exc: (
            f"The service is busy. It is receiving its limit of {exc.limit} uploads at "
            "once; retry after the number of seconds in the Retry-After header."
        ),
        lambda exc: {"Retry-After": str(exc.retry_after_s)},
    ),
    AuthUnavailable: Answer(
        503, _same(AUTH_UNAVAILABLE_DETAIL), lambda exc: {"Retry-After": str(AUTH_UNAVAILABLE_RETRY_AFTER_S)}
    ),
    StageTimeout: Answer(
        504, lambda exc: f"Analysis timed out ({STAGE_LABELS.get(exc.stage, exc.stage)}). Try a shorter video."
    ),
    RequestTimeout: Answer(
        504, lambda exc: f"The request took longer than the {exc.limit_s:g} s limit. Try a shorter video."
    ),
    # Jobs (jobs/errors.py)
    JobNotFound: Answer(404, str),
    JobsOff: Answer(404, str),
    JobAlreadyFinished: Answer(409, str),
    IdempotencyKeyReused: Answer(422, str),
    WebhookUrlRefused: Answer(422, str),
    WebhookSecretMissing: Answer(422, str),
    TooManyActiveJobs: Answer(429, str, lambda exc: {"Retry-After": str(exc.retry_after_s)}),
    JobUploadRefused: Answer(507, str),
    JobQueueUnavailable: Answer(503, str, lambda exc: {"Retry-After": str(exc.retry_after_s)}),
    JobTimedOut: Answer(504, str),
    # Subjects (subjects/errors.py)
    InvalidSubject: Answer(422, str),
    SubjectNotFound: Answer(404, str),
    TooManySubjects: Answer(429, str),
}


def answer_for(exc: Exception) -> tuple[int, str, dict[str, str]] | None:
    """(status, detail, headers) from the table, or None for an unexpected error."""
    for cls in type(exc).__mro__:
        answer = ERROR_TABLE.get(cls)
        if answer is not None:
            status = exc.status_code if isinstance(exc, StarletteHTTPException) else answer.status
            return status, answer.detail(exc), answer.headers(exc)
    return None


def status_for(exc: BaseException) -> int:
    found = answer_for(exc) if isinstance(exc, Exception) else None
    return 500 if found is None else found[0]


def classify_failure(exc: Exception) -> tuple[int, str]:
    """A job's error: the (status, detail) the synchronous endpoint would have answered; an unexpected one is logged
    with its traceback."""
    found = answer_for(exc)
    if found is None:
        logger.error("job analysis failed: %s", type(exc).__name__, exc_info=exc)
        return 500, SERVICE_ERROR_DETAIL
    return found[0], found[1]


def request_id() -> str:
    """Serve's id of the request being handled: the X-Request-ID header the client got back."""
    from ray import serve

    return serve.context._get_serve_request_context().request_id


def log_unexpected(what: str, exc: BaseException) -> None:
    """The traceback stays in the server log, under the request's id; the client gets the guide's 500 body."""
    logger.error("%s (request %s): %s", what, request_id(), type(exc).__name__, exc_info=exc)


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The one exception handler."""
    found = answer_for(exc)
    if found is None:
        log_unexpected(f"unhandled error on {request.url.path}", exc)
        found = (500, SERVICE_ERROR_DETAIL, {})
    elif isinstance(exc, RequestValidationError):
        logger.info("request validation failed at %s", [error.get("loc") for error in exc.errors()])
    status, detail, headers = found
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def install_error_handler(app: Starlette) -> None:
    """Routes every error to `error_response`: the table's classes (handled inside the app) and, for anything
    else, Exception (Starlette's last-resort handler)."""
    for cls in (*ERROR_TABLE, Exception):
        app.add_exception_handler(cls, error_response)
