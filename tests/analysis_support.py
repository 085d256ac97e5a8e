"""Signals -> the bodies the service returns, in process: measurements, the interpretation model and the edge's
builders, as the pipeline and the ingress run them."""

from __future__ import annotations

from softskills.models.interpretation.feedback import SENTENCE_LANGUAGE
from softskills.models.interpretation.model import interpret
from softskills.models.measurements import measure
from softskills.models.pipeline import Analysis
from softskills.models.speech.spoken_language import requested_languages

ENGLISH = requested_languages("en", SENTENCE_LANGUAGE)  # the test recordings' language, as a client names it
# The `analyze-video` body's fields as the guide lists them.
GUIDE_FIELDS = (
    "overall_score",
    "category_scores",
    "strengths",
    "areas_for_improvement",
    "filler_word_count",
    "speaking_pace_wpm",
    "detailed_feedback",
    "session_summary",
    "recommendation",
    "time_series_scores",
    "labeled_moments",
    "key_moments",
)


def analyze_signals(
    signals, embed=None, *, observable_only: bool = False, context_phrase: str | None = None, window_s: float = 5.0
) -> Analysis:
    measurements = measure(signals, window_s=window_s, observable_only=observable_only, context_phrase=context_phrase)
    return Analysis(signals, measurements, interpret(measurements, embed))


def bodies(analysis: Analysis) -> tuple[dict, dict]:
    """(analyze-video body, full-analysis body) as JSON-ready dicts."""
    from softskills.api.responses import build_full_analysis, build_video_analysis

    return (
        build_video_analysis(analysis).model_dump(mode="json", by_alias=True),
        build_full_analysis(analysis, "session-1", None).model_dump(mode="json", by_alias=True),
    )
