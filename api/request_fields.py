"""The request fields of the analysis endpoints and of jobs, declared once: each field's name, which forms take it,
its JSON schema with its limit, its description, and how it is read. The parser (`parse_analysis_request`,
`parse_job_request`), the OpenAPI request bodies (`form_schema`, used by api/openapi.py) and docs/api.md's field
table (scripts/docs_hooks.py) all come from `FIELDS`; tests/test_request_contract.py fails if they ever differ.

Limits are the service's configured ones (the `http` section): a description names them as `{option}`, filled in
with the running service's values. Each field is read within its bound before any work; a field over its bound is an
InvalidRequest (or InvalidTranscript, InvalidSubject) of the error table that names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from starlette.datastructures import UploadFile

from softskills.api.errors import InvalidRequest
from softskills.config.options import HttpOptions
from softskills.jobs.store import ANALYSES, MAX_URL_CHARS
from softskills.models.face.landmarks import MAX_SAMPLES
from softskills.models.i18n.catalogs import feedback_languages
from softskills.models.interpretation.sentences import check_transcript_limits
from softskills.models.pipeline import AnalysisInput
from softskills.models.speech.speakers import EVERYONE, MAX_SPEAKERS
from softskills.models.speech.spoken_language import SUPPORTED
from softskills.subjects.store import MAX_SUBJECT_CHARS, SUBJECT_PATTERN, checked_subject

ANALYSIS = "analysis"  # the form of analyze-video and full-analysis
JOB = "job"  # the form of POST /api/v1/jobs: the analysis form and what a job adds
FORM_ENDPOINTS = {ANALYSIS: ("/api/v1/analyze-video", "/api/v1/full-analysis"), JOB: ("/api/v1/jobs",)}
DEFAULT_ANALYSIS = "full-analysis"
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


@dataclass(frozen=True)
class FormField:
    name: str
    forms: tuple[str, ...]
    description: str  # `{option}` names an `http` limit, filled in with the configured value
    schema: Callable[[HttpOptions], dict]  # the JSON schema of its value, with the configured limit
    read: Callable[[Mapping, HttpOptions], Any]  # its value from the form, within its bound
    required: bool = False

    def describe(self, limits: HttpOptions) -> str:
        return self.description.format(**limits.model_dump())


def text_field(form: Mapping, name: str, max_chars: int | None = None) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"Field '{name}' must be text, not a file.")
    value = value.strip()
    if max_chars is not None and len(value) > max_chars:
        raise InvalidRequest(f"Field '{name}' is longer than {max_chars} characters (the limit).")
    return value or None


def _video(form: Mapping, limits: HttpOptions) -> UploadFile:
    video = form.get("video")
    if not isinstance(video, UploadFile):
        raise InvalidRequest()
    return video


def _bounded_text(name: str, limit: str | None = None) -> Callable[[Mapping, HttpOptions], str | None]:
    """A text field, at most the `http` option `limit` characters long when one is given."""
    return lambda form, limits: text_field(form, name, getattr(limits, limit) if limit else None)


def _transcript(form: Mapping, limits: HttpOptions) -> str | None:
    transcript = text_field(form, "transcript")
    if transcript is not None:
        check_transcript_limits(
            transcript, max_words=limits.max_transcript_words, max_sentences=limits.max_transcript_sentences
        )
    return transcript


def boolean_field(form: Mapping, name: str) -> bool | None:
    """true/1/yes or false/0/no (any case); None when absent."""
    value = text_field(form, name)
    if value is not None and value.lower() not in _TRUE | _FALSE:
        raise InvalidRequest(f"Field '{name}' must be true or false.")
    return None if value is None else value.lower() in _TRUE


def _observable_only(form: Mapping, limits: HttpOptions) -> bool:
    return boolean_field(form, "observable_only") or False


def _speakers_expected(form: Mapping, limits: HttpOptions) -> int | None:
    value = text_field(form, "speakers_expected")
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_SPEAKERS:
        raise InvalidRequest(f"Field 'speakers_expected' must be a whole number from 1 to {MAX_SPEAKERS}.")
    return int(value)


def _speaker(form: Mapping, limits: HttpOptions) -> int | str | None:
    """Who to analyse in a conversation: 'auto' (default: the most speaking time), a speaker number by order of
    first appearance, or 'everyone'."""
    value = text_field(form, "speaker")
    if value is None or value.lower() == "auto":
        return None
    if value.lower() == EVERYONE:
        return EVERYONE
    if not value.isdigit() or not 1 <= int(value) <= MAX_SPEAKERS:
        raise InvalidRequest(f"Field 'speaker' must be auto, everyone or a speaker number from 1 to {MAX_SPEAKERS}.")
    return int(value)


def _language(form: Mapping, limits: HttpOptions) -> str | None:
    """The language of the speech: 'auto' (default: identified from the speech) or a supported ISO 639-1 code."""
    value = text_field(form, "language")
    if value is None or value.lower() == "auto":
        return None
    if value.lower() not in SUPPORTED:
        raise InvalidRequest(
            f"Field 'language': '{value[:20]}' is not a supported language; use auto or one of {', '.join(SUPPORTED)}."
        )
    return value.lower()


def _subject(form: Mapping, limits: HttpOptions) -> str | None:
    value = text_field(form, "subject")
    return None if value is None else checked_subject(value)


def _feedback_language(form: Mapping, limits: HttpOptions) -> str | None:
    """The language of the answer's sentences: 'auto' (default: the spoken language when a catalog has it, else
    English) or the code of a language with a catalog."""
    value = text_field(form, "feedback_language")
    if value is None or value.lower() == "auto":
        return None
    if value.lower() not in feedback_languages():
        raise InvalidRequest(
            f"Field 'feedback_language': '{value[:20]}' is not a supported feedback language; use "
            f"auto or one of {', '.join(feedback_languages())}."
        )
    return value.lower()


def _analysis(form: Mapping, limits: HttpOptions) -> str:
    analysis = text_field(form, "analysis") or DEFAULT_ANALYSIS
    if analysis not in ANALYSES:
        raise InvalidRequest(f"Field 'analysis' must be one of: {', '.join(ANALYSES)}.")
    return analysis


BOTH = (ANALYSIS, JOB)
FIELDS = (
    FormField(
        "video",
        BOTH,
        "The recorded video: mp4, mov, webm, mkv or avi, at most {max_upload_bytes} bytes. The "
        "type is judged from the bytes, not the file name. The field must be named `video`, not `file`: a "
        "field named otherwise, or no file, gets 422 `Missing or invalid request body.`",
        lambda limits: {"type": "string", "format": "binary"},
        _video,
        required=True,
    ),
    FormField(
        "sessionId",
        BOTH,
        "Echoed back as `sessionId` in full-analysis's answer (and in a full-analysis job's "
        "result). At most {max_session_id_chars} characters.",
        lambda limits: {"type": "string", "maxLength": limits.max_session_id_chars},
        _bounded_text("sessionId", "max_session_id_chars"),
    ),
    FormField(
        "transcript",
        BOTH,
        "Used instead of speech-to-text; word times are then estimated by spreading the "
        "words over the detected voice activity (`transcript_details.timing` is `estimated`). At most "
        "{max_transcript_words} words and {max_transcript_sentences} sentences.",
        lambda limits: {"type": "string"},
        _transcript,
    ),
    FormField(
        "context_phrase",
        BOTH,
        "Scenario, e.g. `job interview practice`: the talk's relevance to it is "
        "measured and joins the clarity score. At most {max_context_phrase_chars} characters.",
        lambda limits: {"type": "string", "maxLength": limits.max_context_phrase_chars},
        _bounded_text("context_phrase", "max_context_phrase_chars"),
    ),
    FormField(
        "mediapipeSamples",
        BOTH,
        "JSON array of client-side MediaPipe face (and optionally pose) landmark "
        f'samples, used instead of server-side landmarks (format: docs/api.md, "Request fields"). At most '
        f"{MAX_SAMPLES} samples and {{max_field_bytes}} bytes.",
        lambda limits: {"type": "string"},
        _bounded_text("mediapipeSamples"),
    ),
    FormField(
        "observable_only",
        BOTH,
        "`true`: only observable behaviour metrics; `likeability` and "
        "`authenticity` are null. A service configured observable-only stays so whatever a request says.",
        lambda limits: {"type": "boolean"},
        _observable_only,
    ),
    FormField(
        "speakers_expected",
        BOTH,
        "The number of voices to find (default: estimated).",
        lambda limits: {"type": "integer", "minimum": 1, "maximum": MAX_SPEAKERS},
        _speakers_expected,
    ),
    FormField(
        "speaker",
        BOTH,
        "Whom to analyse when several voices are heard: `auto` (the most speaking time), a "
        "speaker number by order of first appearance (`1` = first to speak), or `everyone`. A number the "
        "recording does not have: 422.",
        lambda limits: {
            "type": "string",
            "default": "auto",
            "enum": ["auto", EVERYONE, *(str(n) for n in range(1, MAX_SPEAKERS + 1))],
        },
        _speaker,
    ),
    FormField(
        "language",
        BOTH,
        "The language spoken: `auto` (identified from the speech) or the ISO 639-1 code of a "
        f"supported language ({', '.join(SUPPORTED)}), which skips the identification. Any other value: 422 "
        "naming it (docs/languages.md).",
        lambda limits: {"type": "string", "default": "auto", "enum": ["auto", *SUPPORTED]},
        _language,
    ),
    FormField(
        "subject",
        BOTH,
        "The person speaking, as the key's owner names them: 1 to "
        f"{MAX_SUBJECT_CHARS} characters of A-Z, a-z, 0-9, `.`, `_` and `-`. The session's measurements and "
        "scores (never the video) are kept under it, and `progress` in the answer judges them against the "
        "subject's earlier sessions (docs/progress.md). Without it nothing is kept. A new subject beyond the "
        "owner's limit (`subjects.max_subjects_per_owner`) gets 429 before any analysis.",
        lambda limits: {"type": "string", "pattern": f"^{SUBJECT_PATTERN.pattern}$", "maxLength": MAX_SUBJECT_CHARS},
        _subject,
    ),
    FormField(
        "feedback_language",
        BOTH,
        "The language of the answer's sentences (feedback, reasons, labels): `auto` "
        "(the spoken language when it is one of these, else English) or one of "
        f"{', '.join(feedback_languages())}. Any other value: 422 naming it. The answer's `language.feedback` "
        'says which was used (docs/results.md, "Feedback language").',
        lambda limits: {"type": "string", "default": "auto", "enum": ["auto", *feedback_languages()]},
        _feedback_language,
    ),
    FormField(
        "analysis",
        (JOB,),
        "Which endpoint's analysis the job runs; its `result` is that endpoint's body.",
        lambda limits: {"type": "string", "enum": list(ANALYSES), "default": DEFAULT_ANALYSIS},
        _analysis,
    ),
    FormField(
        "webhook_url",
        (JOB,),
        "http(s) URL called when the job finishes, signed per Standard Webhooks with "
        "the owner's secret (POST /api/v1/webhooks/secret first). Its host must resolve to public addresses.",
        lambda limits: {"type": "string", "format": "uri", "maxLength": MAX_URL_CHARS},
        _bounded_text("webhook_url"),
    ),
)


def fields_of(form: str) -> tuple[FormField, ...]:
    return tuple(field for field in FIELDS if form in field.forms)


def form_schema(form: str, limits: HttpOptions) -> dict:
    """The multipart body's JSON schema: every field the form's parser reads, with the configured limits."""
    fields = fields_of(form)
    return {
        "type": "object",
        "required": [field.name for field in fields if field.required],
        "properties": {field.name: {**field.schema(limits), "description": field.describe(limits)} for field in fields},
    }


def _read(form: Mapping, limits: HttpOptions, kind: str) -> dict[str, Any]:
    """Every field of the form, in declaration order, each within its bound."""
    return {field.name: field.read(form, limits) for field in fields_of(kind)}


class AnalysisRequest(NamedTuple):
    """An analysis form, read: the upload, the session id, and what the client asked the analysis for."""

    video: UploadFile
    session_id: str | None
    input: AnalysisInput


class JobRequestForm(NamedTuple):
    """A job's form, read: the analysis form, which analysis to run, and where to say it finished."""

    request: AnalysisRequest
    analysis: str
    webhook_url: str | None


def _analysis_request(values: dict[str, Any], observable_only: bool) -> AnalysisRequest:
    """Observable-only mode can be asked for per request, but a service configured for it stays in it: a client may
    make the mode stricter, never weaker."""
    return AnalysisRequest(
        values["video"],
        values["sessionId"],
        AnalysisInput(
            transcript=values["transcript"],
            context_phrase=values["context_phrase"],
            mediapipe_samples=values["mediapipeSamples"],
            observable_only=observable_only or values["observable_only"],
            speakers_expected=values["speakers_expected"],
            speaker=values["speaker"],
            language=values["language"],
            feedback_language=values["feedback_language"],
            subject=values["subject"],
        ),
    )


def parse_analysis_request(form: Mapping, limits: HttpOptions, *, observable_only: bool) -> AnalysisRequest:
    """analyze-video's and full-analysis's form; `observable_only` is the service's configured mode."""
    return _analysis_request(_read(form, limits, ANALYSIS), observable_only)


def parse_job_request(form: Mapping, limits: HttpOptions, *, observable_only: bool) -> JobRequestForm:
    """A job's form: exactly the synchronous endpoints' fields, and the job's own."""
    values = _read(form, limits, JOB)
    return JobRequestForm(_analysis_request(values, observable_only), values["analysis"], values["webhook_url"])
