"""Scoring, timelines, feedback and composition: pure functions over the signals of real fixture videos."""

import json

import pytest

from models.face.landmarks import FaceLandmarker
from models.media.decode import decode_media
from models.interpretation.report import compose_engine_kpis, compose_video_analysis, measure_signals, scoring_metrics
from models.interpretation.scoring import load_rubric, metric_score, overall_score, score_categories
from models.speech.transcribe import SpeechToText
from models.speech.voice import analyze_voice


@pytest.fixture(scope="module")
def models():
    return SpeechToText(), FaceLandmarker()


def _signals(path, models):
    stt, landmarker = models
    media = decode_media(path)
    voice = analyze_voice(media.audio, media.sample_rate) if media.has_audio else None
    transcript = stt.transcribe(media.audio) if media.has_audio else None
    track = landmarker.landmarks(media.frames, media.frame_times_s)
    return measure_signals(media, voice=voice, transcript=transcript, provided_transcript=None,
                           face_chunks=[track], client_track=None, window_s=5.0)


@pytest.fixture(scope="module")
def script_signals(talking_head_videos, models):
    return _signals(talking_head_videos["script_mp4"].path, models)


def test_metric_score_follows_the_rubric_curve():
    curve = load_rubric()["metrics"]["pace_wpm"]["curve"]
    assert metric_score("pace_wpm", 150) == 10
    assert metric_score("pace_wpm", curve[0][0] - 50) == curve[0][1]  # flat beyond the ends
    assert metric_score("pace_wpm", 110) == pytest.approx(6.5)  # halfway between (100, 5) and (120, 8)
    assert metric_score("pace_wpm", None) is None
    assert metric_score("pace_wpm", float("nan")) is None


def test_category_without_enough_evidence_is_null_with_reason():
    scores = score_categories({"pace_wpm": 150.0})
    assert scores["clarity"].score is None and "filler" in scores["clarity"].reason
    full = score_categories({"pace_wpm": 150.0, "filler_rate_per_min": 0.0, "long_pause_rate_per_min": 0.0,
                             "stt_confidence": 0.95})
    assert full["clarity"].score == 10.0 and full["clarity"].coverage == 1.0
    assert overall_score(full) == 100
    assert overall_score(score_categories({})) is None


def test_observable_only_drops_inferred_categories():
    scores = score_categories({"smile_ratio": 0.3, "eye_contact_ratio": 0.8, "pitch_sd_semitones": 4.0,
                               "pace_wpm": 150.0}, observable_only=True)
    assert scores["likeability"].score is None and "observable-only" in scores["likeability"].reason


def test_video_analysis_is_computed_from_the_signals(script_signals, talking_head_videos):
    truth = talking_head_videos["script_mp4"]
    analysis = compose_video_analysis(script_signals)
    json.dumps(analysis, allow_nan=False)
    assert analysis["speaking_pace_wpm"] == pytest.approx(truth.pace_wpm, rel=0.15)
    assert analysis["filler_word_count"] == sum(m["type"] == "filler" for m in analysis["labeled_moments"])
    # Every category score is the weighted mean of the components it lists.
    for name, details in analysis["score_details"]["categories"].items():
        comps = details["components"]
        mean = sum(c["score"] * c["weight"] for c in comps) / sum(c["weight"] for c in comps)
        assert analysis["category_scores"][name] == pytest.approx(mean, abs=0.05)
    (pause_start, pause_end), = [p for p in truth.pauses if p[1] - p[0] >= 2]
    assert any(m["type"] == "long_pause" and abs(m["start_s"] - pause_start) < 0.3
               and abs(m["end_s"] - pause_end) < 0.3 for m in analysis["labeled_moments"])
    assert 3 <= len(analysis["key_moments"]) <= 5
    assert [r["start_s"] for r in analysis["time_series_scores"]] == [0.0, 5.0, 10.0]
    # Feedback cites this video's numbers.
    assert f"{analysis['speaking_pace_wpm']:.0f}" in analysis["detailed_feedback"]
    assert analysis["session_summary"].startswith(f"In this {analysis['evidence_quality']['duration_s']:.0f} s video")
    assert analysis["evidence_quality"]["duration_s"] == pytest.approx(truth.duration_s, abs=0.1)


def test_engine_kpis_match_the_metrics(script_signals):
    kpis = compose_engine_kpis(script_signals)
    metrics = scoring_metrics(script_signals)
    assert kpis["pace_wpm"] == pytest.approx(metrics["pace_wpm"], abs=0.05)
    assert kpis["face_visible_ratio"] == pytest.approx(1.0, abs=0.02)
    assert kpis["long_pause_count"] == 1


def test_no_audio_scores_only_what_was_seen(talking_head_videos, models):
    analysis = compose_video_analysis(_signals(talking_head_videos["no_audio_mp4"].path, models))
    assert analysis["speaking_pace_wpm"] is None and analysis["filler_word_count"] is None
    assert analysis["category_scores"]["clarity"] is None
    assert analysis["evidence_quality"]["missing"]["speech"] == "The video has no audio track."
    assert any("No audio track" in area for area in analysis["areas_for_improvement"])
