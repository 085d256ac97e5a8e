"""The interpretation model: metric curves, categories, the overall rule, window scores, the engine's levels,
content signals and feedback, on hand-built measurements (every expected value known) and on a real fixture."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.interpretation.engine import SentenceEncoder
from softskills.models.interpretation.model import interpret, load_params, metric_score
from softskills.models.interpretation.sentences import Sentence
from softskills.models.measurements import Event, Facts, Measurements, WindowMeasurement
from softskills.models.media.decode import decode_media
from softskills.models.signals import measure_signals
from softskills.models.speech.transcribe import SpeechToText
from softskills.models.speech.voice import analyze_voice
from tests.analysis_support import ENGLISH, analyze_signals, bodies

PARAMS = load_params()
INTERVIEW = (
    "I led a team of five engineers to rebuild our payment service. We cut checkout errors by forty "
    "percent in three months. My manager asked me to present the results to the leadership team. I learned "
    "to explain technical trade-offs to people outside engineering. That is why I am applying for this "
    "senior engineering role."
)
UNRELATED = (
    "Penguins live mostly in the southern hemisphere. The quarterly tax filing deadline is next Tuesday. "
    "Boil the pasta in salted water for nine minutes. Jupiter has dozens of known moons."
)
GOOD = {
    "pace_wpm": 150.0,
    "filler_rate_per_min": 1.0,
    "long_pause_rate_per_min": 0.5,
    "stt_confidence": 0.93,
    "pitch_sd_semitones": 4.0,
    "monotone_ratio": 0.05,
    "loudness_range_db": 16.0,
    "hedge_rate_per_100_words": 1.0,
    "vocabulary_diversity_mattr": 0.75,
    "eye_contact_ratio": 0.85,
    "look_away_rate_per_min": 0.5,
    "smile_ratio": 0.3,
    "head_motion_deg_per_s": 4.0,
}
FACTS = Facts(
    duration_s=60.0,
    word_count=150,
    speaking_time_s=55.0,
    filler_count=1,
    top_fillers=(("um", 1),),
    pause_count=2,
    long_pause_count=1,
    longest_pause=(20.0, 2.4),
    pitch_median_hz=120.0,
    face_visible_ratio=1.0,
    look_away_count=1,
    blink_count=3,
    hedge_count=1,
    top_hedges=(("maybe", 1),),
    question_count=0,
    transcript_source="speech_to_text",
)


def sentences(text: str) -> tuple[Sentence, ...]:
    pieces = [p.strip() + "." for p in text.split(".") if p.strip()]
    return tuple(Sentence(p, 4.0 * i, 4.0 * i + 3.5) for i, p in enumerate(pieces))


def measured(
    values: dict | None = None,
    *,
    withheld: dict | None = None,
    speech_gap: str | None = None,
    face_gap: str | None = None,
    text: str = INTERVIEW,
    context: str | None = None,
    windows=(),
    events=(),
    observable_only: bool = False,
) -> Measurements:
    return Measurements(
        duration_s=60.0,
        values=dict(GOOD if values is None else values),
        withheld=withheld or {},
        facts=FACTS,
        language=None,
        events=tuple(events),
        windows=tuple(windows),
        sentences=sentences(text) if text else (),
        speech_gap=speech_gap,
        face_gap=face_gap,
        observable_only=observable_only,
        context_phrase=context,
    )


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(device="cpu")


def test_metric_score_follows_its_curve():
    curve = PARAMS["metrics"]["pace_wpm"]["curve"]
    assert metric_score(curve, 150) == 10
    assert metric_score(curve, curve[0][0] - 50) == curve[0][1]  # flat beyond the ends
    assert metric_score(curve, 110) == pytest.approx(6.5)  # halfway between (100, 5) and (120, 8)
    assert metric_score(curve, None) is None and metric_score(curve, float("nan")) is None


def test_every_category_is_the_weighted_mean_of_the_components_it_lists():
    result = interpret(measured())
    for category in result.categories.values():
        mean = sum(c.score * c.weight for c in category.components) / sum(c.weight for c in category.components)
        assert category.score == pytest.approx(mean)
        assert category.coverage >= PARAMS["min_coverage"]
    assert result.overall_score is not None and result.overall_reason is None


def test_a_category_without_enough_evidence_is_null_with_the_reasons():
    result = interpret(measured({"pace_wpm": 150.0}, withheld={"filler_rate_per_min": "No speech was detected."}))
    assert result.categories["clarity"].score is None
    assert "filler words (No speech was detected)" in result.categories["clarity"].reason


def test_no_overall_score_without_speech_even_with_a_smiling_face():
    """A face and no speech scored 86 and 98 overall in the first version."""
    face_only = {
        k: GOOD[k] for k in ("eye_contact_ratio", "look_away_rate_per_min", "smile_ratio", "head_motion_deg_per_s")
    }
    result = interpret(measured(face_only, speech_gap="No speech was detected in the audio."))
    assert result.overall_score is None and "No speech was detected" in result.overall_reason
    assert result.categories["clarity"].score is None
    assert not any("wpm" in s or "filler" in s for s in result.strengths)


def test_observable_only_drops_the_inferred_categories():
    result = interpret(measured(observable_only=True))
    assert (
        result.categories["likeability"].score is None and "observable-only" in result.categories["likeability"].reason
    )
    assert result.categories["authenticity"].score is None and result.categories["clarity"].score is not None


def test_a_window_scores_counts_not_rates():
    """One filler in a 5 s window was a rate of 12 a minute and scored about 1/10."""
    one_filler = WindowMeasurement(
        0.0,
        5.0,
        {
            "pace_wpm": 150.0,
            "filler_count": 1.0,
            "long_pause_count": 0.0,
            "stt_confidence": 0.9,
            "eye_contact_ratio": 0.9,
        },
        None,
    )
    silent = WindowMeasurement(5.0, 10.0, {"eye_contact_ratio": 0.9}, "Under 1.5 s of speech in this window.")
    result = interpret(measured(windows=[one_filler, silent]))
    window_filler_curve = PARAMS["metrics"]["filler_rate_per_min"]["window"]["curve"]
    assert metric_score(window_filler_curve, 1) == 8
    assert result.windows[0].categories["clarity"] > 8
    assert result.windows[1].overall is None  # a window without speech has no overall score


WINDOW_CURVES = {
    spec["window"]["metric"]: spec["window"]["curve"] for spec in PARAMS["metrics"].values() if "window" in spec
}


@settings(max_examples=80, deadline=None)
@given(
    values=st.fixed_dictionaries({metric: st.floats(0, 1.5 * curve[-1][0]) for metric, curve in WINDOW_CURVES.items()}),
    observable_only=st.booleans(),
)
def test_a_window_with_every_window_metric_scores_every_category(values, observable_only):
    """Whatever their values: window confidence and authenticity were null in every window once body language
    raised confidence's total weight (a window cannot see body language, hedges or blinks)."""
    window = interpret(
        measured(windows=[WindowMeasurement(0.0, 5.0, values, None)], observable_only=observable_only)
    ).windows[0]
    for name, spec in PARAMS["categories"].items():
        if observable_only and spec["inferred"]:
            assert window.categories[name] is None
        else:
            assert 0 <= window.categories[name] <= 10, name
    assert window.overall is not None


def test_levels_use_the_same_metric_scores_as_the_categories():
    slow = interpret(measured({**GOOD, "pace_wpm": 98.0}))
    assert slow.levels["vocal_energy"].score < interpret(measured()).levels["vocal_energy"].score
    assert "pace 98 wpm" in slow.levels["vocal_energy"].reason
    assert any("slow" in area for area in slow.areas_for_improvement)


def test_a_steady_head_is_not_less_composed():
    """Head movement's curve rewards lively motion (naturalness), so it stays out of composure: a still head
    must not read as less composed than a nodding one (tests/test_validity.py found it did)."""
    still, nodding = (interpret(measured({**GOOD, "head_motion_deg_per_s": v})) for v in (0.0, 5.0))
    assert still.levels["composure"].score == nodding.levels["composure"].score
    assert "head_motion_deg_per_s" not in still.levels["composure"].evidence


@settings(max_examples=60, deadline=None)
@given(metric=st.sampled_from(sorted(GOOD)), low=st.floats(0, 1), high=st.floats(0, 1))
def test_a_better_metric_never_lowers_a_level_or_a_category(metric, low, high):
    """Levels and categories are weighted means of the same metric scores, so they move in one direction."""
    curve = PARAMS["metrics"][metric]["curve"]
    xs = [x for x, _ in curve]
    values = sorted(
        [xs[0] + low * (xs[-1] - xs[0]), xs[0] + high * (xs[-1] - xs[0])], key=lambda v: metric_score(curve, v)
    )
    worse, better = (interpret(measured({**GOOD, metric: v})) for v in values)
    for name in worse.categories:
        if worse.categories[name].score is not None:
            assert better.categories[name].score >= worse.categories[name].score - 1e-9
    for name in worse.levels:
        if worse.levels[name].score is not None:
            assert better.levels[name].score >= worse.levels[name].score - 1e-9


def test_feedback_never_calls_a_metric_both_a_strength_and_an_area():
    mixed = {**GOOD, "pace_wpm": 95.0, "filler_rate_per_min": 9.0}
    result = interpret(
        measured(
            mixed, events=[Event("filler", 4.1, 4.3, 'Filler "um"', {}), Event("filler", 4.4, 4.6, 'Filler "um"', {})]
        )
    )
    assert not set(result.strengths) & set(result.areas_for_improvement)
    assert any("slow" in a for a in result.areas_for_improvement)
    filler_area = next(a for a in result.areas_for_improvement if "filler" in a)
    assert filler_area.count("0:04") == 1  # two fillers in the same second: the time is cited once


def test_strongest_is_said_only_of_a_strength():
    weak = {k: v for k, v in GOOD.items()}
    weak.update(
        pace_wpm=80.0,
        filler_rate_per_min=12.0,
        eye_contact_ratio=0.2,
        smile_ratio=0.0,
        pitch_sd_semitones=1.0,
        loudness_range_db=4.0,
        hedge_rate_per_100_words=9.0,
        stt_confidence=0.4,
        long_pause_rate_per_min=6.0,
        monotone_ratio=0.8,
        head_motion_deg_per_s=45.0,
        vocabulary_diversity_mattr=0.5,
        look_away_rate_per_min=8.0,
    )
    result = interpret(measured(weak))
    assert result.strengths == () and "Strongest" not in result.detailed_feedback


def test_relevance_follows_the_context_and_joins_clarity(encoder):
    interview = interpret(measured(context="job interview practice"), encoder.embed)
    cooking = interpret(measured(context="cooking pasta recipe"), encoder.embed)
    assert interview.relevance.cosine > cooking.relevance.cosine
    assert interview.categories["clarity"].score > cooking.categories["clarity"].score
    assert "relevance_cosine" in {c.metric for c in interview.categories["clarity"].components}
    assert len(interview.relevance.evidence) == 2


def test_coherent_talk_scores_higher_than_unrelated_sentences(encoder):
    coherent = interpret(measured(), encoder.embed).coherence
    unrelated = interpret(measured(text=UNRELATED), encoder.embed).coherence
    assert coherent.score > unrelated.score and unrelated.weakest[0].text in UNRELATED


def test_the_summary_is_central_sentences_in_talk_order(encoder):
    result = interpret(measured(), encoder.embed)
    starts = [s.start_s for s in result.summary]
    assert 1 <= len(result.summary) <= 3 and starts == sorted(starts)
    assert all(s.text in INTERVIEW for s in result.summary)
    assert result.summary[0].text in result.session_summary


def test_without_the_sentence_encoder_content_is_withheld_not_guessed():
    result = interpret(measured())
    assert result.coherence.score is None and "not available" in result.coherence.reason
    assert "coherence_cosine" not in {c.metric for c in result.categories["clarity"].components}


@pytest.fixture(scope="module")
def script_analysis(talking_head_videos):
    media = decode_media(talking_head_videos["script_mp4"].path)
    voice = analyze_voice(media.audio, media.sample_rate)
    transcript = SpeechToText().transcribe(media.audio)
    track = FaceLandmarker().landmarks(media.frames, media.frame_times_s)
    signals = measure_signals(
        media,
        voice=voice,
        transcript=transcript,
        provided_transcript=None,
        face_chunks=[track],
        client_track=None,
        window_s=5.0,
        languages=ENGLISH,
    )
    return analyze_signals(signals, SentenceEncoder(device="cpu").embed, context_phrase="quarterly team review")


def test_the_bodies_are_computed_from_the_video(script_analysis, talking_head_videos):
    truth = talking_head_videos["script_mp4"]
    body, full = bodies(script_analysis)
    json.dumps(full, allow_nan=False)
    assert body["speaking_pace_wpm"] == pytest.approx(truth.pace_wpm, rel=0.15)
    assert body["filler_word_count"] == sum(m["type"] == "filler" for m in body["labeled_moments"])
    ((pause_start, pause_end),) = [p for p in truth.pauses if p[1] - p[0] >= 2]
    assert any(
        m["type"] == "long_pause" and abs(m["start_s"] - pause_start) < 0.3 and abs(m["end_s"] - pause_end) < 0.3
        for m in body["labeled_moments"]
    )
    assert 3 <= len(body["key_moments"]) <= 5
    assert [r["start_s"] for r in body["time_series_scores"]] == [0.0, 5.0, 10.0]
    assert f"{body['speaking_pace_wpm']:.0f}" in body["detailed_feedback"]
    assert body["session_summary"].startswith(f"In this {body['evidence_quality']['duration_s']:.0f} s video")
    assert body["metrics"]["face"]["smile_ratio"] == pytest.approx(1.0, abs=0.05)  # the portrait smiles
    # The KPIs sent to the engine are the values the categories scored (the engine adds its content cosines).
    components = {
        c["metric"]: c["value"]
        for d in body["score_details"]["categories"].values()
        for c in d["components"]
        if PARAMS["metrics"][c["metric"]]["evidence"] != "content"
    }
    for metric, value in components.items():
        assert full["engine_kpis"][metric] == pytest.approx(value, abs=1e-3)
    assert full["engine_kpis"]["long_pause_count"] == 1
    assert full["engine_analysis"]["content"]["relevance_to_context"]["cosine"] is not None


def test_speech_shorter_than_the_monotone_window_has_no_monotone_score(script_analysis):
    m = script_analysis.measurements
    assert "monotone_ratio" in m.values  # 14 s of talk: judged over 8 s windows
    short = measured({**GOOD}, withheld={"monotone_ratio": "The speech lasts 5.0 s, less than the 8 s window"})
    del short.values["monotone_ratio"]
    assert "monotone_ratio" not in {c.metric for c in interpret(short).categories["authenticity"].components}


def test_every_window_the_person_speaks_in_scores_every_category(script_analysis):
    """A real talking head: each window with speech has all four category scores, so the best and weakest windows
    are ranked on all of them."""
    rows = list(zip(script_analysis.measurements.windows, script_analysis.interpretation.windows))
    spoken = [score for window, score in rows if window.values.get("pace_wpm") is not None]
    assert len(spoken) >= 2
    assert all(None not in score.categories.values() and score.overall is not None for score in spoken)
    kinds = {moment.kind for moment in script_analysis.interpretation.key_moments}
    assert "best_window" in kinds or "weakest_window" in kinds


def test_fillers_a_language_has_no_lexicon_for_are_said_uncounted_never_zero():
    """Swedish speech has hesitation sounds but no filler lexicon: the count is unknown, and the feedback must not
    read it as "0 filler words" (nor score a filler rate)."""
    values = {k: v for k, v in GOOD.items() if k != "filler_rate_per_min"}
    m = dataclasses.replace(measured(values), facts=dataclasses.replace(FACTS, filler_count=None, top_fillers=()))
    feedback = interpret(m).detailed_feedback
    assert "filler words uncounted (no filler list for this language)" in feedback
    assert not re.search(r"\b0 filler", feedback)
