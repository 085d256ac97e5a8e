"""Which language the speech is in: asked for by the client, or identified from the speech itself.

Identification runs once per request on the multilingual Whisper model, over up to MAX_WINDOWS windows of
WINDOW_S seconds placed on the voiced speech (the voice analysis's speech segments) and spread over the whole
recording, not only its first 30 s. Each window gives Whisper's probability for every language; the windows are
combined by their voiced seconds:

    P(language) = sum over windows of voiced_s * P_window(language) / sum of voiced_s

and the spoken language is the most probable one. Mixed-language speech therefore gets its dominant language:
the one that holds the most voiced time (weighted by Whisper's confidence in each window), and the whole recording
is transcribed in it. Below MIN_PROBABILITY the language is not identified (too little or too unclear speech to
tell): `spoken` is null with the reason, and the speech is transcribed as FALLBACK_LANGUAGE, as it was before
languages were told apart.

Supported languages (SUPPORTED): the ones the analysis is complete for (transcription measured on real speech,
fillers, hedges and pace norms of their own). Whisper identifies and transcribes ~99 languages: speech detected in
another one (e.g. Swedish) is still transcribed in that language with the multilingual model, `supported` is
false and the language-specific metrics are not measured. A client may only ask for a supported language.

The answer's sentences are in the feedback language: the one the client asked for, else the spoken language when
the catalogs have it (models/i18n), else English.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from softskills.models.i18n.catalogs import default_feedback_language
from softskills.models.i18n.text import Text, say, series

SUPPORTED = ("en", "es", "fr", "de", "pt", "it", "ja", "zh")
FALLBACK_LANGUAGE = "en"
WINDOW_S = 30.0  # Whisper's input: its encoder sees 30 s whatever the clip's length, so a window costs the same
MAX_WINDOWS = 4  # about one encoder pass a second on a CPU thread (BENCHMARKS.md, "Languages")
MIN_PROBABILITY = 0.5  # below it Whisper's best guess is no better than the rest put together


@dataclass(frozen=True)
class LanguageIdentification:
    """What the multilingual model heard: the combined probabilities' best language (None when there was no
    voiced speech to listen to), over how many windows and voiced seconds."""

    language: str | None
    probability: float | None
    windows: int
    voiced_s: float


@dataclass(frozen=True)
class Languages:
    """The languages of one analysis: the one spoken (and how it is known) and the one its sentences are in."""

    spoken: str | None  # ISO 639-1; None when it could not be identified (see reason)
    probability: float | None  # Whisper's combined probability; None when the client named the language
    source: str  # "detected" | "requested"
    feedback: str  # the language the answer's sentences are written in
    reason: Text | None = None  # why spoken is None, or why an identified language is not supported

    @property
    def supported(self) -> bool | None:
        """Whether the spoken language is a supported one; None when it is not known."""
        return None if self.spoken is None else self.spoken in SUPPORTED

    @property
    def transcription_language(self) -> str:
        """The language the speech is decoded as."""
        return self.spoken or FALLBACK_LANGUAGE


def requested_languages(code: str, feedback: str | None = None) -> Languages:
    """`feedback`: the language the client asked the sentences in; None: the module docstring's default."""
    return Languages(
        spoken=code, probability=None, source="requested", feedback=feedback or default_feedback_language(code)
    )


def detected_languages(found: LanguageIdentification | None, feedback: str | None = None) -> Languages:
    """The rule of the module docstring applied to what the model heard (None: no audio to listen to)."""
    if found is None or found.language is None:
        reason = say("No audio track.") if found is None else say("No speech was heard to identify the language from.")
        return Languages(None, None, "detected", feedback or default_feedback_language(None), reason)
    if found.probability < MIN_PROBABILITY:
        return Languages(
            None,
            None,
            "detected",
            feedback or default_feedback_language(None),
            say(
                "The language could not be identified from {seconds:.0f} s of speech (best guess "
                "'{language}' at {probability:.2f}); transcribed as {fallback}.",
                seconds=found.voiced_s,
                language=found.language,
                probability=found.probability,
                fallback=FALLBACK_LANGUAGE,
            ),
        )
    reason = (
        None
        if found.language in SUPPORTED
        else say(
            "'{language}' is transcribed but not supported (supported: {languages}): its fillers, hedges and pace "
            "norms are not measured.",
            language=found.language,
            languages=series(SUPPORTED),
        )
    )
    return Languages(
        found.language, found.probability, "detected", feedback or default_feedback_language(found.language), reason
    )


def identification_windows(
    speech_segments: Iterable[tuple[float, float]], window_s: float = WINDOW_S, max_windows: int = MAX_WINDOWS
) -> list[tuple[float, float, float]]:
    """(start_s, end_s, voiced_s) of the windows identification listens to: as many as the span from the first to
    the last speech segment needs to be covered (at most max_windows), evenly spread over it, each moved to start
    on speech when it would start in a pause."""
    segments = sorted((float(s), float(e)) for s, e in speech_segments if e > s)
    if not segments:
        return []
    first, last = segments[0][0], segments[-1][1]
    span = last - first
    count = min(max_windows, max(1, math.ceil(span / window_s)))
    windows = []
    for k in range(count):
        target = first + (span - window_s) * k / (count - 1) if count > 1 else first
        start = next(max(target, s) for s, e in segments if e > target)
        end = min(start + window_s, last)
        voiced = sum(max(0.0, min(e, end) - max(s, start)) for s, e in segments)
        windows.append((start, end, voiced))
    return windows


def combine(windows: Sequence[tuple[dict[str, float], float]]) -> tuple[str, float]:
    """The most probable language over (probabilities, voiced_s) windows and its combined probability: the mean
    of the windows' probabilities weighted by their voiced seconds (equal weights if none has any)."""
    weights = [max(0.0, w) for _, w in windows]
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(windows), float(len(windows))
    combined: dict[str, float] = {}
    for (probabilities, _), weight in zip(windows, weights):
        for language, p in probabilities.items():
            combined[language] = combined.get(language, 0.0) + weight / total * p  # normalised first: no underflow
    best = max(combined, key=combined.get)
    return best, combined[best]
