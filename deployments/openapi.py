"""What /openapi.json says about the analysis endpoints beyond what FastAPI infers: the multipart request body
(the routes read the form themselves, under limits) and the error answers (deployments/errors.py)."""

from __future__ import annotations

from pydantic import BaseModel

from softskills.deployments.config import IngressOptions
from softskills.models.speech.speakers import EVERYONE, MAX_SPEAKERS
from softskills.models.speech.spoken_language import SUPPORTED


class ErrorBody(BaseModel):
    """Every error answer: the guide's `{"detail": ...}`."""

    detail: str


def _default(option: str):
    """A limit's default, as the document states it (a server configured otherwise answers 422 naming its own)."""
    return IngressOptions.model_fields[option].default


_FIELDS = {
    "video": {"type": "string", "format": "binary",
              "description": "The recorded video (mp4, mov, webm, mkv or avi). The field must be named `video`, "
                             "not `file`."},
    "sessionId": {"type": "string", "maxLength": _default("max_session_id_chars"),
                  "description": "Echoed in the response (full-analysis). At most `max_session_id_chars` "
                                 "characters."},
    "transcript": {"type": "string", "description": "Used instead of speech-to-text; word times are then "
                                                    "estimated from the voice activity. At most "
                                                    "`max_transcript_words` words and `max_transcript_sentences` "
                                                    "sentences."},
    "context_phrase": {"type": "string", "maxLength": _default("max_context_phrase_chars"),
                       "description": "Scenario, e.g. `job interview practice`. At most "
                                      "`max_context_phrase_chars` characters."},
    "mediapipeSamples": {"type": "string", "description": "JSON array of MediaPipe face-landmark samples (format: "
                                                          "docs/api.md, \"Request fields\"); used instead of "
                                                          "server-side landmarks."},
    "language": {"type": "string", "enum": ["auto", *SUPPORTED], "default": "auto",
                 "description": "The language spoken (ISO 639-1): auto identifies it from the speech; a code skips "
                                "the identification. Any other value is a 422."},
    "observable_only": {"type": "boolean", "description": "Only observable behaviour metrics; no likeability or "
                                                          "authenticity inference. A service configured for "
                                                          "observable-only mode stays in it."},
    "speakers_expected": {"type": "integer", "minimum": 1, "maximum": MAX_SPEAKERS,
                          "description": "The number of voices to find (default: estimated)."},
    "speaker": {"type": "string", "enum": ["auto", EVERYONE, *(str(n) for n in range(1, MAX_SPEAKERS + 1))],
                "default": "auto",
                "description": "Whom to analyse when several voices are heard: `auto` (the most speaking time), a "
                               "speaker number by order of first appearance, or `everyone`. A number the recording "
                               "does not have: 422."},
}
ANALYSIS_REQUEST_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["video"], "properties": _FIELDS}}}}}

_ERRORS = {
    401: "Invalid, expired, revoked or missing API key.",
    408: "The upload streamed slower than the minimum rate (`min_upload_bytes_per_s`) and was dropped.",
    413: "Upload larger than the configured limit.",
    415: "Not a supported video container.",
    422: "Missing or invalid request body, a field over its limit, or a video over a limit.",
    429: "Too many uploads at once from this key's owner (`max_uploads_per_owner`; retry after the Retry-After "
         "seconds).",
    500: "Analysis or server failure.",
    503: "Overloaded: too many analyses or uploads at once (retry after the Retry-After seconds), or the key store "
         "is unavailable.",
    504: "The analysis ran past its time limit.",
}
ERROR_RESPONSES = {status: {"model": ErrorBody, "description": text} for status, text in _ERRORS.items()}

_JOB_FIELDS = {
    **_FIELDS,
    "analysis": {"type": "string", "enum": ["analyze-video", "full-analysis"], "default": "full-analysis",
                 "description": "Which endpoint's analysis the job runs; its `result` is that endpoint's body."},
    "webhook_url": {"type": "string", "format": "uri", "maxLength": 2048,
                    "description": "http(s) URL called when the job finishes, signed per Standard Webhooks with "
                                   "the owner's secret (POST /api/v1/webhooks/secret first). Its host must "
                                   "resolve to public addresses."},
}
JOB_REQUEST_BODY = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["video"], "properties": _JOB_FIELDS}}}},
    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "The same key and request within 24 hours answer with the same job (and "
                                   "`Idempotent-Replayed: true`); the same key with another request gets 422."}],
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
         "after Retry-After seconds).",
    503: "Too many uploads at once, the job queue or the key store is unavailable (retry after Retry-After).",
    507: "The video store would not keep the upload (the owner's quota, the total quota or low disk).",
}
JOB_ERROR_RESPONSES = {status: {"model": ErrorBody, "description": text} for status, text in _JOB_ERRORS.items()}
JOB_LIST_PARAMETERS = {"parameters": [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                                                                   "default": 20}},
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 26},
     "description": "`next_cursor` of the page before."}]}
