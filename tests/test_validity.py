"""Metamorphic validity: clips that differ in ONE behaviour (benchmarks/validity_set.py), each analysed once by the
real in-process pipeline (speech-to-text, voice, face and pose landmarks, sentence encoder, interpretation), must
rank as the behaviour says. Each comparison first checks that the clips really differ as built (the fillers
are heard, the pace is the one asked for, the pitch SD differs), so a failure is the interpretation's."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.validity_set import (
    BASE_WPM,
    FACE_REMOVED,
    FAST_WPM,
    FILLERS,
    RANKED,
    SLOW_WPM,
    UNSCORED,
    interpretation_scores,
    needs_the_face,
    validity_set,
)
from softskills.config.options import AnalysisOptions
from softskills.models.body.pose import PoseLandmarker
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.interpretation.engine import SentenceEncoder
from softskills.models.interpretation.model import interpret
from softskills.models.measurements import BODY_METRICS, FACE_METRICS, SPEECH_METRICS
from softskills.models.pipeline import Analysis, AnalysisInput, Pipeline, local_stages
from softskills.models.speech.transcribe import SpeechToText
from testkit.videos import FIXTURE_DIR

PACE_TOLERANCE = 0.10  # espeak-ng's -s rate is nominal: measured 84 wpm at 90, 232 at 230
MIN_PITCH_SD_STEP = 0.5  # semitones between the flat, default and varied readings before comparing them


@pytest.fixture(scope="module")
def clips():
    return validity_set(FIXTURE_DIR)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(device="cpu")


@pytest.fixture(scope="module")
def analyses(clips, encoder) -> dict[str, Analysis]:
    """Every clip through the same pipeline as the service (in-process stages), once."""
    stages = local_stages(SpeechToText(), FaceLandmarker(), encoder, pose_landmarker=PoseLandmarker())
    pipeline = Pipeline(stages, AnalysisOptions().pipeline_options())

    async def analyse(path: str) -> Analysis:
        with open(path, "rb") as upload:
            return await pipeline.analyze(upload, AnalysisInput())

    return {name: asyncio.run(analyse(clip.path)) for name, clip in clips.items()}


@pytest.fixture(scope="module")
def scores(analyses) -> dict[str, dict[str, float | None]]:
    return {name: interpretation_scores(a.interpretation) for name, a in analyses.items()}


def test_the_fillers_are_heard(analyses):
    with_fillers, base = analyses["fillers_150"].measurements, analyses["base_150"].measurements
    assert with_fillers.facts.filler_count >= len(FILLERS) - 1
    assert with_fillers.facts.filler_count - base.facts.filler_count >= len(FILLERS) - 2
    assert with_fillers.values["filler_rate_per_min"] > base.values["filler_rate_per_min"] + 8


@pytest.mark.parametrize(
    ("name", "target_wpm"), [("base_150", BASE_WPM), ("slow_90", SLOW_WPM), ("fast_230", FAST_WPM)]
)
def test_the_pace_is_the_one_asked_for(analyses, clips, name, target_wpm):
    pace = analyses[name].measurements.values["pace_wpm"]
    assert pace == pytest.approx(target_wpm, rel=PACE_TOLERANCE)
    assert pace == pytest.approx(clips[name].pace_wpm, rel=0.05)  # against the waveform's own truth


def test_the_pitch_range_changes_the_measured_pitch_sd(analyses):
    sd = {
        name: analyses[name].measurements.values["pitch_sd_semitones"]
        for name in ("flat_pitch", "base_150", "varied_pitch")
    }
    assert sd["flat_pitch"] + MIN_PITCH_SD_STEP < sd["base_150"] < sd["varied_pitch"] - MIN_PITCH_SD_STEP
    words = {name: analyses[name].measurements.facts.word_count for name in sd}
    assert max(words.values()) - min(words.values()) <= 1  # the same words, only the intonation differs


def test_the_face_and_the_speech_are_gone_where_removed(analyses):
    no_face, base = analyses["no_face"], analyses["base_150"]
    assert no_face.measurements.face_gap is not None and not set(FACE_METRICS) & set(no_face.measurements.values)
    assert {k: no_face.measurements.values[k] for k in SPEECH_METRICS if k in base.measurements.values} == {
        k: v for k, v in base.measurements.values.items() if k in SPEECH_METRICS
    }  # the same audio, measured alike
    no_speech = analyses["no_speech"].measurements
    assert no_speech.speech_gap is not None and not set(SPEECH_METRICS) & set(no_speech.values)
    assert no_speech.values["eye_contact_ratio"] > 0.9  # the face is still there


@pytest.mark.parametrize("ranked", RANKED, ids=lambda r: f"{r.score}:{r.higher}>{r.lower}")
def test_clips_rank_as_built(scores, ranked):
    higher, lower = scores[ranked.higher][ranked.score], scores[ranked.lower][ranked.score]
    assert higher is not None and lower is not None
    assert higher > lower, f"{ranked.score}: {ranked.higher} {higher:.3f} <= {ranked.lower} {lower:.3f}"


@pytest.mark.parametrize(("clip", "unscored"), UNSCORED, ids=[clip for clip, _ in UNSCORED])
def test_scores_without_their_evidence_are_null_with_a_reason(analyses, scores, clip, unscored):
    assert {k: scores[clip][k] for k in unscored} == dict.fromkeys(unscored)
    i = analyses[clip].interpretation
    reasons = {
        **{k: c.reason for k, c in i.categories.items()},
        **{k: v.reason for k, v in i.levels.items()},
        "overall": i.overall_reason,
    }
    assert all(reasons[k] for k in unscored)


def test_without_the_face_what_is_scored_comes_from_the_speech_alone(analyses, scores, encoder):
    """The reference's audio over an empty background scores exactly what the reference's own measurements score
    with the face and body evidence withheld: the missing face enters no score, and nothing else changes."""
    clip, reference = FACE_REMOVED
    assert {"likeability", "confidence", "engagement", "eye_contact"} <= set(needs_the_face())
    m = analyses[reference].measurements
    seen = (set(FACE_METRICS) | set(BODY_METRICS)) & set(m.values)
    gone = "The face was removed."
    speech_only = dataclasses.replace(
        m,
        values={k: v for k, v in m.values.items() if k not in seen},
        withheld={**m.withheld, **dict.fromkeys(seen, gone)},
        face_gap=gone,
    )
    assert scores[clip] == pytest.approx(interpretation_scores(interpret(speech_only, encoder.embed)))
    assert scores[clip]["overall"] is not None
    assert scores[clip]["clarity"] == pytest.approx(scores[reference]["clarity"])
