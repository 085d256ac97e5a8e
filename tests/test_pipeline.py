"""The analysis pipeline (models/pipeline.py) with in-process models as its stages: the same code the service runs
over deployment handles, on a real talking-head video."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from softskills.config.options import AnalysisOptions
from softskills.models.errors import InvalidLandmarkSamples, InvalidMedia, StageTimeout
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.interpretation.engine import SentenceEncoder
from softskills.models.pipeline import AnalysisInput, Pipeline, Stages, local_stages
from softskills.models.speech.spoken_language import LanguageIdentification
from softskills.models.speech.transcribe import SpeechToText, Transcript
from testkit.videos import BECKETT_WAV, load_audio, make_audio_only_file


@pytest.fixture(scope="module")
def models():
    return {"stt": SpeechToText(), "face": FaceLandmarker(), "encoder": SentenceEncoder(device="cpu")}


def in_process_stages(models, **replaced) -> Stages:
    stages = local_stages(models["stt"], models["face"], models["encoder"])
    return dataclasses.replace(stages, **replaced)


def run(pipeline: Pipeline, path: str, request: AnalysisInput, **kwargs):
    async def go():
        with open(path, "rb") as upload:
            return await pipeline.analyze(upload, request, **kwargs)

    return asyncio.run(go())


def test_full_analysis_of_a_real_video(models, talking_head):
    observed: list[str] = []
    pipeline = Pipeline(
        in_process_stages(models),
        AnalysisOptions().pipeline_options(),
        observe=lambda stage, seconds: observed.append(stage),
    )

    async def keep():
        return "kept"

    analysis = run(pipeline, talking_head.path, AnalysisInput(context_phrase="quarterly review"), keep_video=keep)
    heard = {w.normalized for w in analysis.signals.transcript.words}
    assert len(heard & {w.lower() for w in talking_head.words}) >= 0.8 * len(set(talking_head.words))
    assert analysis.measurements.values["pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)
    assert analysis.signals.face.face_visible_ratio == pytest.approx(1.0, abs=0.05)
    assert analysis.interpretation.relevance.cosine is not None and analysis.interpretation_failure is None
    assert analysis.interpretation.overall_score is not None
    assert analysis.kept_video == "kept"
    assert {"decode_audio", "decode_frames", "speech_to_text", "voice", "face", "measure", "engine"} <= set(observed)


def test_landmark_chunks_in_flight_are_bounded(models, talking_head):
    """A 10 s video in 1 s chunks with at most 2 in flight: decoding waits for the landmark stage."""
    in_flight = peak = 0
    calls = 0

    async def slow_landmarks(frames, times):
        nonlocal in_flight, peak, calls
        in_flight += 1
        calls += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05)
            return await asyncio.to_thread(models["face"].landmarks, frames, times)
        finally:
            in_flight -= 1

    options = AnalysisOptions(face_chunk_s=1.0, max_face_chunks_in_flight=2).pipeline_options()
    pipeline = Pipeline(in_process_stages(models, landmarks=slow_landmarks), options)
    analysis = run(pipeline, talking_head.path, AnalysisInput())
    assert calls >= 8 and peak == 2
    assert analysis.signals.frames_analyzed == pytest.approx(8 * talking_head.duration_s, abs=2)


def test_a_failing_stage_cancels_the_calls_in_flight(models, talking_head):
    async def failing(frames, times):
        raise InvalidMedia("landmarks failed")

    started: list[asyncio.Task] = []

    async def slow_transcribe(audio, language):
        started.append(asyncio.current_task())
        await asyncio.sleep(30)

    stages = in_process_stages(models, landmarks=failing, transcribe=slow_transcribe)
    pipeline = Pipeline(stages, AnalysisOptions().pipeline_options())
    with pytest.raises(InvalidMedia):  # the language named: the transcription starts at once
        run(pipeline, talking_head.path, AnalysisInput(language="en"))
    assert started and all(task.cancelled() for task in started)


def test_a_stage_past_its_timeout_is_a_stage_timeout(models, talking_head):
    async def stuck_voice(audio, sample_rate):
        await asyncio.sleep(30)

    stages = in_process_stages(models, analyze_voice=stuck_voice)
    pipeline = Pipeline(stages, AnalysisOptions(speech_timeout_s=0.5).pipeline_options())
    with pytest.raises(StageTimeout) as raised:
        run(pipeline, talking_head.path, AnalysisInput())
    assert raised.value.stage == "voice"


def test_a_voice_timeout_is_a_stage_timeout_even_while_speakers_wait_for_it(models, talking_head):
    """Speaker detection waits for the voice analysis under the same timeout. When both run out together and the
    voice call takes a moment to cancel (as a remote call does), the waiting stage must not cancel the voice task:
    that turned the timeout into a bare CancelledError (a plain-text 500, a job left running)."""

    async def stuck_voice(audio, sample_rate):
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)
            raise

    async def diarize(audio, segments, expected):
        raise AssertionError("never reached: the voice analysis never finishes")

    stages = in_process_stages(models, analyze_voice=stuck_voice, diarize=diarize)
    pipeline = Pipeline(stages, AnalysisOptions(speech_timeout_s=0.5).pipeline_options())
    with pytest.raises(StageTimeout) as raised:
        run(pipeline, talking_head.path, AnalysisInput())
    assert raised.value.stage in ("voice", "speakers", "language", "speech_to_text")  # all wait for the voice


def test_an_engine_failure_costs_the_interpretation_not_the_measurements(models, talking_head):
    async def broken_engine(measurements, earlier):
        raise RuntimeError("engine down")

    stages = in_process_stages(models, interpret=broken_engine)
    analysis = run(Pipeline(stages, AnalysisOptions().pipeline_options()), talking_head.path, AnalysisInput())
    assert analysis.interpretation is None and "RuntimeError" in analysis.interpretation_failure
    assert analysis.measurements.values["pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)


def test_client_samples_for_a_file_without_video_are_refused_before_any_stage(models, tmp_path):
    """A voice recording sent with mediapipeSamples was a 500 (a ValueError from a 0x0 frame size) after every
    speech stage had run, and a job retried it max_attempts times."""
    path = tmp_path / "voice.m4a"
    make_audio_only_file(path, load_audio(BECKETT_WAV)[: 16000 * 4])
    started: list[str] = []

    async def voice(audio, sample_rate):
        started.append("voice")

    pipeline = Pipeline(in_process_stages(models, analyze_voice=voice), AnalysisOptions().pipeline_options())
    with pytest.raises(InvalidLandmarkSamples, match="^mediapipeSamples were sent with a file that has no video track"):
        run(pipeline, str(path), AnalysisInput(mediapipe_samples='[{"t": 0, "landmarks": []}]'))
    assert started == []


def _routing_fakes(calls: list):
    """Stand-ins for the speech models that only record how the pipeline routes a request (what the real models
    do with real speech is in tests/test_spoken_language.py)."""

    async def identify(audio, segments):
        calls.append(("identify", len(segments)))
        return LanguageIdentification("es", 0.96, 1, 10.0)

    async def transcribe(audio, language):
        calls.append(("transcribe", language))
        return Transcript("", (), language, "speech_to_text", "measured", None, (), "base")

    return {"identify_language": identify, "transcribe": transcribe}


def test_the_language_is_identified_once_and_every_part_is_transcribed_in_it(models, talking_head):
    calls: list = []
    options = dataclasses.replace(AnalysisOptions().pipeline_options(), speech_segment_s=4.0)
    analysis = run(
        Pipeline(in_process_stages(models, **_routing_fakes(calls)), options), talking_head.path, AnalysisInput()
    )
    assert calls[0][0] == "identify" and calls[0][1] > 0  # on the voice analysis's speech segments
    assert [c for c in calls if c[0] == "identify"] == [calls[0]]
    parts = [c for c in calls if c[0] == "transcribe"]
    assert len(parts) > 1 and {language for _, language in parts} == {"es"}
    languages = analysis.signals.languages
    # The sentences follow the speech when a catalog has its language (models/i18n; issue 24 item 6).
    assert (languages.spoken, languages.probability, languages.source, languages.feedback) == (
        "es",
        0.96,
        "detected",
        "es",
    )


def test_a_requested_language_skips_identification(models, talking_head):
    calls: list = []
    analysis = run(
        Pipeline(in_process_stages(models, **_routing_fakes(calls)), AnalysisOptions().pipeline_options()),
        talking_head.path,
        AnalysisInput(language="fr"),
    )
    assert calls == [("transcribe", "fr")]
    languages = analysis.signals.languages
    assert (languages.spoken, languages.probability, languages.source) == ("fr", None, "requested")


def test_a_provided_transcript_is_taken_in_the_identified_language(models, talking_head):
    calls: list = []
    analysis = run(
        Pipeline(in_process_stages(models, **_routing_fakes(calls)), AnalysisOptions().pipeline_options()),
        talking_head.path,
        AnalysisInput(transcript="hola a todos"),
    )
    assert [c[0] for c in calls] == ["identify"]
    assert analysis.signals.transcript.language == "es" and analysis.signals.transcript.source == "provided"
