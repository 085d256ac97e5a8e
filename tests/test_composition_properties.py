"""Composition is total: any combination of absent or empty signals gives a valid, honest body.

Real uploads break the happy path in every way at once — no audio track, a muted microphone, whispered speech
Whisper returns no words for, words with no duration, no face, a face in some frames, client landmarks, a
provided transcript. Hypothesis generates the raw model outputs with any part absent or empty, runs them through
the real `measure_signals`, measurements, interpretation model (with the real sentence encoder) and response
builders, and checks the invariants a client
relies on: JSON-safe bodies, no speech claim without speech, no face claim without a face, no score without
evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from softskills.models.face.landmarks import FaceLandmarker, FaceTrack
from softskills.models.interpretation.engine import SentenceEncoder
from softskills.models.measurements import SPEECH_METRICS
from softskills.models.signals import measure_signals
from softskills.models.speech.transcribe import Transcript, Word
from softskills.models.speech.voice import SAMPLE_RATE, analyze_voice
from tests.analysis_support import ENGLISH, GUIDE_FIELDS, analyze_signals, bodies
from tests.test_face import portrait_frame

FACE_METRICS = {
    "eye_contact_ratio",
    "look_away_rate_per_min",
    "smile_ratio",
    "head_motion_deg_per_s",
    "blink_rate_per_min",
}
# Phrases only a sentence about measured speech or face uses (the missing-evidence sentences avoid them).
SPEECH_CLAIMS = ("words per minute", "wpm", "filler word", "pause", "semitone", "dB", "You spoke", "articulation")
FACE_CLAIMS = (
    "eye contact in",
    "looking at the camera",
    "smiling in",
    "smiled in",
    "face was visible",
    "blink",
    "head move",
    "°/s",
)
VOCABULARY = [
    "um",
    "uh",
    "uh,",
    "hmm",
    "like,",
    "so",
    "the",
    "a.",
    "market",
    "grew",
    "forty",
    "percent.",
    "you",
    "know,",
    "basically",
    "I",
    "mean",
    "we",
    "shipped",
    "it!",
    "Okay?",
    "[laughter]",
    "-",
]
STEP_S = 1 / 8
# 16 kHz, real
SPEECH, _ = sf.read(Path(__file__).parent.parent / "testkit" / "assets" / "speech_beckett.wav", dtype="float32")


@dataclass(frozen=True)
class Decoded:
    """What `decode_media` reports about a file, as far as composition reads it."""

    duration_s: float
    container: str
    has_audio: bool
    has_video: bool


@pytest.fixture(scope="module")
def face_points() -> np.ndarray:
    """One real frontal face: MediaPipe's (478, 3) landmarks on the test portrait."""
    landmarker = FaceLandmarker()
    track = landmarker.landmarks(np.stack([portrait_frame()] * 2), np.arange(2) * STEP_S)
    landmarker.close()
    return track.landmarks[-1].astype(np.float64)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


@st.composite
def audio_tracks(draw, duration_s: float) -> np.ndarray:
    """Silence (a muted microphone), hiss, hiss with voiced bursts (a hum, falsetto), or real speech."""
    n = int(duration_s * SAMPLE_RATE)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["silence", "hiss", "voiced", "speech"]))
    audio = np.zeros(n, np.float32)
    if kind != "silence":
        audio += rng.normal(0, 10 ** (draw(st.floats(-70, -30)) / 20), n).astype(np.float32)
    if kind == "voiced":
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.floats(0, duration_s))
            length = draw(st.floats(0.05, 3.0))
            i, j = int(start * SAMPLE_RATE), min(n, int((start + length) * SAMPLE_RATE))
            t = np.arange(j - i) / SAMPLE_RATE
            f0 = draw(st.floats(80, 900)) * (1 + 0.1 * np.sin(2 * np.pi * draw(st.floats(0, 3)) * t))
            audio[i:j] += 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / SAMPLE_RATE).astype(np.float32)
    if kind == "speech":
        offset = draw(st.integers(0, max(0, len(SPEECH) - n)))
        clip = SPEECH[offset : offset + n]
        audio[: len(clip)] += clip
    return audio


@st.composite
def transcripts(draw, duration_s: float) -> Transcript:
    """Whisper's output: maybe no words, words in order with gaps, zero-length or overlapping ones, fillers
    anywhere, words past the end of the audio."""
    words, t = [], draw(st.floats(0, duration_s))
    for _ in range(draw(st.integers(0, 40))):
        end = t + draw(st.one_of(st.just(0.0), st.floats(0, 0.8)))
        words.append(Word(draw(st.sampled_from(VOCABULARY)), t, end, draw(st.floats(0, 1))))
        t = max(0.0, end + draw(st.floats(-0.3, 2.5)))
    words.sort(key=lambda w: w.start_s)
    confidence = float(np.mean([w.probability for w in words])) if words else None
    segments = ((words[0].start_s, words[-1].end_s, " ".join(w.text for w in words)),) if words else ()
    return Transcript(
        " ".join(w.text for w in words), tuple(words), "en", "speech_to_text", "measured", confidence, segments
    )


def components_by_category(body: dict) -> set[str]:
    """The categories that some measured metric entered."""
    return {name for name, details in body["score_details"]["categories"].items() if details["components"]}


def face_tracks(draw, points: np.ndarray, n_frames: int, start_s: float, source: str) -> FaceTrack:
    found = np.array(draw(st.lists(st.booleans(), min_size=n_frames, max_size=n_frames)), bool)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frames = np.repeat(points[None], n_frames, axis=0)
    frames[:, :, :2] += rng.normal(0, draw(st.floats(0, 0.02)), (n_frames, 478, 2))
    if source == "client_samples":
        frames[:, 468:] = np.nan  # 468-point samples carry no irises
    frames[~found] = np.nan
    return FaceTrack(start_s + np.arange(n_frames) * STEP_S, frames.astype(np.float32), found, 640, 360, source)


@st.composite
def uploads(draw, points: np.ndarray):
    duration_s = draw(st.floats(0.3, 20.0))
    has_audio, has_video = draw(st.booleans()), draw(st.booleans())
    audio = draw(audio_tracks(duration_s)) if has_audio else None
    transcript = draw(st.one_of(st.none(), transcripts(duration_s))) if has_audio else None
    provided = draw(st.one_of(st.none(), st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join)))
    chunks, client = [], None
    if has_video:
        source = draw(st.sampled_from(["face_mesh", "client_samples", "none"]))
        n_frames = int(duration_s / STEP_S)
        if source == "face_mesh":
            cuts = sorted(draw(st.lists(st.integers(0, n_frames), max_size=3)))
            edges = [0, *cuts, n_frames]
            chunks = [face_tracks(draw, points, b - a, a * STEP_S, "face_mesh") for a, b in zip(edges, edges[1:])]
        elif source == "client_samples":
            client = face_tracks(draw, points, draw(st.integers(0, n_frames)), 0.0, "client_samples")
    return (
        Decoded(duration_s, draw(st.sampled_from(["mp4", "mov", "webm", "avi", "mkv"])), has_audio, has_video),
        audio,
        transcript,
        provided,
        chunks,
        client,
        draw(st.booleans()),
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_combination_of_missing_signals_composes_an_honest_body(data, face_points, encoder):
    media, audio, transcript, provided, chunks, client, observable_only = data.draw(uploads(face_points))
    voice = analyze_voice(audio, SAMPLE_RATE) if audio is not None else None
    signals = measure_signals(
        media,
        voice=voice,
        transcript=transcript,
        provided_transcript=provided,
        face_chunks=chunks,
        client_track=client,
        window_s=5.0,
        languages=ENGLISH,
    )

    body, full = bodies(
        analyze_signals(signals, encoder.embed, observable_only=observable_only, context_phrase="quarterly results")
    )
    kpis, engine_analysis = full["engine_kpis"], full["engine_analysis"]
    json.dumps(full, allow_nan=False)
    assert set(GUIDE_FIELDS) <= body.keys()

    missing = body["evidence_quality"]["missing"]
    event(f"speech: {missing.get('speech', 'scored')[:24]}")
    event(f"face: {missing.get('face', 'scored')[:24]}")
    components = {
        c["metric"] for details in body["score_details"]["categories"].values() for c in details["components"]
    }
    claims = [*body["strengths"], *body["areas_for_improvement"], body["detailed_feedback"], body["recommendation"]]
    for reason in missing.values():  # the sentences that say what was not measured, and why
        claims = [text.replace(reason.rstrip("."), "") for text in claims]
    claims = [
        sentence
        for text in claims
        for sentence in text.split(". ")
        if not sentence.startswith(("No audio", "No speech", "Only ", "No face", "The video has no", ":"))
    ]
    for row in body["time_series_scores"]:  # a window's speech is measured, or null with the reason
        assert (row["pace_wpm"] is None) == (row["speech_reason"] is not None), row
    if "speech" in missing:
        assert not components & set(SPEECH_METRICS)
        assert not any(row["pace_wpm"] or row["pitch_sd_semitones"] for row in body["time_series_scores"])
    if "speech" in missing and not missing["speech"].startswith("Only "):  # too little speech is still reported
        assert body["speaking_pace_wpm"] is None and body["filler_word_count"] is None
        assert not {"pace_wpm", "filler_rate_per_min", "pitch_sd_semitones", "loudness_range_db"} & kpis.keys()
        assert not [c for c in claims if any(phrase in c for phrase in SPEECH_CLAIMS)], claims
        assert all(m["type"] not in ("filler", "long_pause", "monotone") for m in body["labeled_moments"])
    if "speech" not in missing:
        assert body["speaking_pace_wpm"] is not None and "clarity" in components_by_category(body)
    if "face" in missing:
        assert not components & FACE_METRICS
        assert not [c for c in claims if any(phrase in c for phrase in FACE_CLAIMS)], claims
        assert engine_analysis["eye_contact"]["level"] is None
    if "speech" in missing:  # no overall score without scored speech, whatever the face gave
        assert body["overall_score"] is None and body["score_details"]["overall_reason"]
    if body["overall_score"] is not None:
        assert body["category_scores"]["clarity"] is not None or body["category_scores"]["confidence"] is not None
    assert_feedback_is_consistent(body)
    if not media.has_audio:
        assert missing["speech"].startswith("The video has no audio track")


def assert_feedback_is_consistent(body: dict) -> None:
    """No metric is both a strength and an area; "Strongest" only for a strength; each clock time cited once per
    sentence."""
    import re

    strengths, areas = set(body["strengths"]), set(body["areas_for_improvement"])
    assert not strengths & areas
    strongest = re.search(r"Strongest: (.*?)(?: To work on:|$)", body["detailed_feedback"])
    if strongest:
        assert any(strongest.group(1).startswith(s[:25]) for s in body["strengths"]), body["detailed_feedback"]
    for sentence in [*body["strengths"], *body["areas_for_improvement"], body["recommendation"]]:
        times = re.findall(r"\b\d+:\d\d\b", sentence)
        assert len(times) == len(set(times)), sentence


def test_a_muted_microphone_is_no_speech_not_an_error():
    """The most common real upload after a talk: a webcam recording with the microphone off (a silent AAC
    track). Whisper returns no words; this used to raise TypeError in evidence_quality (a 500)."""
    media = Decoded(8.0, "mp4", has_audio=True, has_video=False)
    silent = analyze_voice(np.zeros(8 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    no_words = Transcript("", (), "en", "speech_to_text", "measured", None, ())
    signals = measure_signals(
        media,
        voice=silent,
        transcript=no_words,
        provided_transcript=None,
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        languages=ENGLISH,
    )
    body, _ = bodies(analyze_signals(signals))
    assert body["evidence_quality"]["missing"]["speech"] == "No speech was detected in the audio."
    assert body["overall_score"] is None and body["speaking_pace_wpm"] is None
    assert body["evidence_quality"]["speech_ratio"] is None


def test_a_provided_transcript_without_audio_is_content_not_timing():
    """Text given for a video with no audio track has no times: no pace, no "Fluent delivery" from it."""
    media = Decoded(8.0, "webm", has_audio=False, has_video=False)
    signals = measure_signals(
        media,
        voice=None,
        transcript=None,
        provided_transcript="so um we grew forty percent.",
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        languages=ENGLISH,
    )
    body, _ = bodies(analyze_signals(signals))
    assert body["speaking_pace_wpm"] is None and body["filler_word_count"] is None
    assert "Fluent" not in " ".join(body["strengths"]) and body["strengths"] == []
    assert body["evidence_quality"]["missing"]["speech"] == (
        "The video has no audio track; the provided transcript is used for its content only."
    )
    assert body["evidence_quality"]["transcript_source"] == "provided"
    assert '"so um we grew forty percent."' in body["session_summary"]
