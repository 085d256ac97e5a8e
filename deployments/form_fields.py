"""The analysis endpoints' form fields (the same for `analyze-video`, `full-analysis` and jobs), each read within
its bound before any work; a field over its bound is an InvalidRequest of the error table that names it."""

from __future__ import annotations

from starlette.datastructures import UploadFile

from softskills.deployments.config import IngressOptions
from softskills.deployments.errors import InvalidRequest
from softskills.models.interpretation.sentences import check_transcript_limits
from softskills.models.pipeline import AnalysisInput
from softskills.models.speech.speakers import EVERYONE, MAX_SPEAKERS
from softskills.models.speech.spoken_language import SUPPORTED


def text_field(form, name: str, max_chars: int | None = None) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"Field '{name}' must be text, not a file.")
    value = value.strip()
    if max_chars is not None and len(value) > max_chars:
        raise InvalidRequest(f"Field '{name}' is longer than {max_chars} characters (the limit).")
    return value or None


def parse_analysis_request(form, opts: IngressOptions) -> tuple[UploadFile, str | None, AnalysisInput]:
    """The video, the session id and the analysis options, each field within its bound. Observable-only mode can be
    asked for per request, but a service configured for it stays in it: a client may make the mode stricter, never
    weaker."""
    video = form.get("video")
    if not isinstance(video, UploadFile):
        raise InvalidRequest()
    observable = text_field(form, "observable_only")
    if observable is not None and observable.lower() not in {"true", "false", "1", "0", "yes", "no"}:
        raise InvalidRequest("Field 'observable_only' must be true or false.")
    transcript = text_field(form, "transcript")
    if transcript is not None:
        check_transcript_limits(transcript, max_words=opts.max_transcript_words,
                                max_sentences=opts.max_transcript_sentences)
    requested_observable = observable is not None and observable.lower() in {"true", "1", "yes"}
    return video, text_field(form, "sessionId", opts.max_session_id_chars), AnalysisInput(
        transcript=transcript, context_phrase=text_field(form, "context_phrase", opts.max_context_phrase_chars),
        mediapipe_samples=text_field(form, "mediapipeSamples"),
        observable_only=opts.observable_only or requested_observable,
        speakers_expected=speaker_number(form, "speakers_expected"), speaker=speaker_choice(form),
        language=spoken_language(form))


def speaker_number(form, name: str) -> int | None:
    value = text_field(form, name)
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_SPEAKERS:
        raise InvalidRequest(f"Field '{name}' must be a whole number from 1 to {MAX_SPEAKERS}.")
    return int(value)


def speaker_choice(form) -> int | str | None:
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


def spoken_language(form) -> str | None:
    """The language of the speech: 'auto' (default: identified from the speech) or a supported ISO 639-1 code."""
    value = text_field(form, "language")
    if value is None or value.lower() == "auto":
        return None
    if value.lower() not in SUPPORTED:
        raise InvalidRequest(f"Field 'language': '{value[:20]}' is not a supported language; use auto or one of "
                             f"{', '.join(SUPPORTED)}.")
    return value.lower()
