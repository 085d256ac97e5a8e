"""What /openapi.json says beyond what FastAPI infers: the multipart request bodies, from the one declaration of
the request fields with this service's configured limits (api/request_fields.py; the routes read the form
themselves, under limits), and the error answers (api/errors.py)."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from softskills.api.request_fields import FORM_ENDPOINTS, form_schema
from softskills.config.options import HttpOptions
from softskills.jobs.store import MAX_IDEMPOTENCY_KEY_CHARS


class ErrorBody(BaseModel):
    """Every error answer: the guide's `{"detail": ...}`."""

    detail: str


_ERRORS = {
    401: "Invalid, expired, revoked or missing API key.",
    408: "The upload streamed slower than the minimum rate (`min_upload_bytes_per_s`) and was dropped.",
    413: "Upload larger than the configured limit.",
    415: "Not a supported video container.",
    422: "Missing or invalid request body, a field over its limit, or a video over a limit.",
    429: "Too many uploads at once from this key's owner (`max_uploads_per_owner`; retry after the Retry-After "
    "seconds), or a new `subject` beyond the owner's limit (`subjects.max_subjects_per_owner`).",
    500: "Analysis or server failure.",
    503: "Overloaded: too many analyses or uploads at once (retry after the Retry-After seconds), or the key store "
    "is unavailable.",
    504: "The analysis ran past its time limit.",
}
ERROR_RESPONSES = {status: {"model": ErrorBody, "description": text} for status, text in _ERRORS.items()}

JOB_PARAMETERS = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY_CHARS},
            "description": "The same key and request within 24 hours answer with the same job (and "
            "`Idempotent-Replayed: true`); the same key with another request gets 422.",
        }
    ]
}
_JOB_ERRORS = {
    401: _ERRORS[401],
    404: "No such job for this key's owner (another owner's job included, or an id that is not a job id), or jobs "
    "are off.",
    408: _ERRORS[408],
    409: "The job has already finished: it cannot be cancelled.",
    413: _ERRORS[413],
    415: _ERRORS[415],
    422: "Missing or invalid field, an Idempotency-Key reused for another request, a refused webhook URL, or no "
    "webhook signing secret yet.",
    429: "Too many queued and running jobs for this owner, or too many uploads at once from this owner (retry "
    "after Retry-After seconds), or a new `subject` beyond the owner's limit.",
    503: "Too many uploads at once, the job queue or the key store is unavailable (retry after Retry-After).",
    507: "The video store would not keep the upload (the owner's quota, the total quota or low disk).",
}
JOB_ERROR_RESPONSES = {status: {"model": ErrorBody, "description": text} for status, text in _JOB_ERRORS.items()}


def _page_parameters(cursor_chars: int) -> dict:
    """The query parameters of a paged list: `limit` (1-100) and the `cursor` of the page before."""
    return {
        "parameters": [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "maxLength": cursor_chars},
                "description": "`next_cursor` of the page before.",
            },
        ]
    }


JOB_LIST_PARAMETERS = _page_parameters(26)


def openapi_document(app: FastAPI, limits: HttpOptions) -> dict:
    """The app's OpenAPI document (built once), each form endpoint's request body stated from the field declaration
    with `limits`, the running service's own."""
    if app.openapi_schema is None:
        document = FastAPI.openapi(app)  # FastAPI's own, which it keeps in app.openapi_schema
        for form, paths in FORM_ENDPOINTS.items():
            for path in paths:
                document["paths"][path]["post"]["requestBody"] = {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": form_schema(form, limits)}},
                }
    return app.openapi_schema


_SUBJECT_ERRORS = {
    401: _ERRORS[401],
    404: "No such subject for this key's owner: another owner's subject, a deleted one, or an id that is not a "
    "subject id, alike.",
    408: _ERRORS[408],
    413: "A settings form larger than 1 KiB.",
    422: "An invalid query parameter (limit, cursor) or settings field.",
}
SUBJECT_ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": text} for status, text in _SUBJECT_ERRORS.items()
}
SUBJECT_LIST_PARAMETERS = _page_parameters(64)
SUBJECT_SETTINGS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["keep_transcripts"],
                    "properties": {
                        "keep_transcripts": {
                            "type": "boolean",
                            "description": "Keep each session's transcript with its measurements (the video never is).",
                        }
                    },
                }
            }
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        },
    }
}
