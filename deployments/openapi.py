"""What /openapi.json says about the analysis endpoints beyond what FastAPI infers: the multipart request body
(the routes read the form themselves, under limits) and the error answers (deployments/errors.py)."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """Every error answer: the guide's `{"detail": ...}`."""

    detail: str


_FIELDS = {
    "video": {"type": "string", "format": "binary",
              "description": "The recorded video (mp4, mov, webm, mkv or avi). The field must be named `video`, "
                             "not `file`."},
    "sessionId": {"type": "string", "description": "Echoed in the response (full-analysis)."},
    "transcript": {"type": "string", "description": "Used instead of speech-to-text; word times are then "
                                                    "estimated from the voice activity. At most "
                                                    "`max_transcript_words` words and `max_transcript_sentences` "
                                                    "sentences."},
    "context_phrase": {"type": "string", "description": "Scenario, e.g. `job interview practice`."},
    "mediapipeSamples": {"type": "string", "description": "JSON array of MediaPipe face-landmark samples (see "
                                                          "README); used instead of server-side landmarks."},
    "observable_only": {"type": "boolean", "description": "Only observable behaviour metrics; no likeability or "
                                                          "authenticity inference. A service configured for "
                                                          "observable-only mode stays in it."},
}
ANALYSIS_REQUEST_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["video"], "properties": _FIELDS}}}}}

_ERRORS = {
    401: "Invalid, expired, revoked or missing API key.",
    413: "Upload larger than the configured limit.",
    415: "Not a supported video container.",
    422: "Missing or invalid request body, a field over its limit, or a video over a limit.",
    500: "Analysis or server failure.",
    503: "Overloaded (retry after the Retry-After seconds), or the key store is unavailable.",
    504: "The analysis ran past its time limit.",
}
ERROR_RESPONSES = {status: {"model": ErrorBody, "description": text} for status, text in _ERRORS.items()}
