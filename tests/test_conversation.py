"""A real two-person conversation (two real voices spliced into turns with known boundaries, over the portrait):
the speakers are found, the coached speaker's pace, pauses and words are theirs alone, and the conversation
metrics name who. In process, through the same pipeline the service runs."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.speakers_set import SAMPLE_RATE, spliced_conversation
from softskills.api.responses import build_full_analysis
from softskills.config.options import AnalysisOptions
from softskills.models.errors import SpeakerNotFound
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.measurements import measure
from softskills.models.pipeline import AnalysisInput, Pipeline, local_stages
from softskills.models.signals import measure_signals
from softskills.models.speech.speakers import (
    EVERYONE,
    Diarization,
    SpeakerSpan,
    VoiceEncoder,
    diarize,
    turns_from_speech,
)
from softskills.models.speech.transcribe import SpeechToText, Transcript, Word
from softskills.models.speech.voice import analyze_voice
from testkit.videos import make_talking_head_video
from tests.analysis_support import ENGLISH, analyze_signals, bodies

JFK_WORDS = {"country", "ask", "american", "fellow"}
BECKETT_WORDS = {"fail", "tried", "failed", "matter", "better"}


@dataclass(frozen=True)
class Audio:
    duration_s: float
    container: str = "mp4"
    has_audio: bool = True
    has_video: bool = False


@pytest.fixture(scope="module")
def models():
    return {"stt": SpeechToText(), "voices": VoiceEncoder()}


@pytest.fixture(scope="module")
def conversation():
    """JFK and the Beckett reader taking turns (about 21 s): JFK speaks first and longest."""
    conv = spliced_conversation(("jfk", "beckett"), False, 3)
    time_s = {v: sum(e - s for w, s, e in conv.reference if w == v) for v in ("jfk", "beckett")}
    assert time_s["jfk"] > time_s["beckett"]
    return conv


@pytest.fixture(scope="module")
def outputs(conversation, models):
    audio = conversation.audio
    voice = analyze_voice(audio)
    return voice, models["stt"].transcribe(audio), diarize(audio, voice.speech_segments, models["voices"])


def signals_for(conversation, outputs, speaker=None):
    voice, transcript, diarization = outputs
    return measure_signals(
        Audio(conversation.duration_s),
        voice=voice,
        transcript=transcript,
        provided_transcript=None,
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        diarization=diarization,
        speaker=speaker,
        languages=ENGLISH,
    )


def words_of(signals) -> set[str]:
    return {w.normalized for w in signals.transcript.words}


def constructed_conversation(turns: list[tuple[int, float, float]], words_per_s: float = 2.5):
    """Signals of a made-up conversation: each (speaker, start_s, end_s) turn filled with evenly spaced words, the
    diarization exact. No model runs: the windows are measured from the turns alone."""
    words, speech = [], []
    for speaker, start_s, end_s in turns:
        count = int(round((end_s - start_s) * words_per_s))
        step = (end_s - start_s) / count
        words += [Word(f"s{speaker}w{i}", start_s + i * step, start_s + (i + 0.8) * step, 0.9) for i in range(count)]
        speech.append(SpeakerSpan(speaker, start_s, end_s))
    transcript = Transcript(
        " ".join(w.text for w in words),
        tuple(words),
        "en",
        "speech_to_text",
        "measured",
        0.9,
        ((words[0].start_s, words[-1].end_s, "all"),),
    )
    diarization = Diarization(
        len({t[0] for t in turns}), tuple(speech), turns_from_speech(speech), "constructed", None, 0.5, 10
    )
    return measure_signals(
        Audio(turns[-1][2]),
        voice=None,
        transcript=transcript,
        provided_transcript=None,
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        diarization=diarization,
        languages=ENGLISH,
    )


def test_the_listener_has_no_pace_while_the_other_person_speaks():
    """Speaker 1 talks 0-8 s and 16-24 s, speaker 2 in between: the window the coached speaker only listens in
    read a pace of 0.0 (the other's turn counted as their speaking time), and the windows around it a pace diluted
    by it."""
    analysis = analyze_signals(constructed_conversation([(1, 0.0, 8.0), (2, 8.0, 16.0), (1, 16.0, 24.0)]))
    assert analysis.signals.speakers.coached == 1
    rows = {row["start_s"]: row for row in bodies(analysis)[0]["time_series_scores"]}
    listening = rows[10.0]
    assert listening["pace_wpm"] is None and listening["filler_count"] is None
    assert listening["speech_reason"].startswith(
        "Speaker 2 is talking here and speaker 1, the one analysed, is listening"
    )
    assert listening["overall_score"] is None and listening["scores"]["clarity"] is None
    for start_s in (0.0, 5.0, 15.0, 20.0):  # their own talk, 2.5 words a second, however much of it is theirs
        assert rows[start_s]["pace_wpm"] == pytest.approx(150, rel=0.1), start_s
        assert rows[start_s]["speech_reason"] is None and rows[start_s]["scores"]["clarity"] is not None


def test_everyone_together_has_pace_in_every_turn():
    analysis = analyze_signals(constructed_conversation([(1, 0.0, 8.0), (2, 8.0, 16.0), (1, 16.0, 24.0)]))
    everyone = analyze_signals(
        measure_signals(
            Audio(24.0),
            voice=None,
            transcript=analysis.signals.full_transcript,
            provided_transcript=None,
            face_chunks=[],
            client_track=None,
            window_s=5.0,
            diarization=analysis.signals.speakers.diarization,
            speaker=EVERYONE,
            languages=ENGLISH,
        )
    )
    assert all(w.values["pace_wpm"] == pytest.approx(150, rel=0.1) for w in everyone.measurements.windows)


def test_both_voices_are_found_and_the_longest_speaker_is_coached(conversation, outputs):
    signals = signals_for(conversation, outputs)
    assert signals.speakers.diarization.speaker_count == 2
    assert signals.speakers.coached == 1  # JFK: first to speak and the most speaking time
    assert JFK_WORDS & words_of(signals) and not BECKETT_WORDS & words_of(signals)
    assert BECKETT_WORDS & {w.normalized for w in signals.full_transcript.words}


def test_the_other_speaker_is_neither_a_pause_nor_the_coached_speakers_words(conversation, outputs):
    signals = signals_for(conversation, outputs)
    beckett = [(s, e) for v, s, e in conversation.reference if v == "beckett"]
    for pause in signals.speech.pauses:
        assert not any(min(pause.end_s, e) - max(pause.start_s, s) > 0.2 for s, e in beckett), pause
    # The coached speaker's voice is measured on their turns only.
    assert all(
        not signals.voice.voiced[int(s / signals.voice.hop_s) + 5 : int(e / signals.voice.hop_s) - 5].any()
        for s, e in beckett
        if e - s > 0.3
    )


def test_windows_of_the_other_speakers_turn_have_no_pace_for_the_listener(conversation, outputs):
    """5-10 s and 10-15 s are mostly Beckett's (JFK speaks 0.7 s and 1.2 s of them): they read 24 and 36 wpm for
    JFK, the other turn counted as his speaking time; the windows he speaks in read his pace, not a diluted one."""
    windows = {w.start_s: w for w in measure(signals_for(conversation, outputs), window_s=5.0).windows}
    for start_s in (5.0, 10.0):
        assert windows[start_s].values.get("pace_wpm") is None
        assert windows[start_s].speech_gap.startswith("Speaker 2 is talking here and speaker 1")
    assert all(w.values["pace_wpm"] > 100 for w in windows.values() if w.values.get("pace_wpm") is not None)


def test_the_coached_pace_is_the_pace_of_their_speech_alone(conversation, outputs, models):
    """JFK's turns cut out of the conversation and joined: the pace measured there is the pace in the conversation."""
    jfk = sorted((s, e) for v, s, e in conversation.reference if v == "jfk")
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    alone = np.concatenate(
        [piece for s, e in jfk for piece in (conversation.audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)], gap)]
    )
    voice = analyze_voice(alone)
    alone_signals = measure_signals(
        Audio(len(alone) / SAMPLE_RATE),
        voice=voice,
        transcript=models["stt"].transcribe(alone),
        provided_transcript=None,
        face_chunks=[],
        client_track=None,
        window_s=5.0,
        languages=ENGLISH,
    )
    together = signals_for(conversation, outputs)
    assert together.speech.pace_wpm == pytest.approx(alone_signals.speech.pace_wpm, rel=0.15)
    assert together.speech.word_count == pytest.approx(alone_signals.speech.word_count, abs=2)


def test_another_speaker_or_everyone_can_be_chosen(conversation, outputs):
    second = signals_for(conversation, outputs, speaker=2)
    assert BECKETT_WORDS & words_of(second) and not JFK_WORDS & words_of(second)
    everyone = signals_for(conversation, outputs, speaker=EVERYONE)
    assert everyone.speakers.coached is None
    assert BECKETT_WORDS & words_of(everyone) and JFK_WORDS & words_of(everyone)
    with pytest.raises(SpeakerNotFound, match="speaker 3; the recording has 2 speakers"):
        signals_for(conversation, outputs, speaker=3)


def test_conversation_metrics_add_up_and_name_who(conversation, outputs):
    conversation_metrics = signals_for(conversation, outputs).speakers.conversation
    shares = {s.speaker: s for s in conversation_metrics.speakers}
    assert sum(s.talk_share for s in shares.values()) == pytest.approx(1.0)
    reference = {v: sum(e - s for w, s, e in conversation.reference if w == v) for v in ("jfk", "beckett")}
    assert shares[1].speaking_time_s == pytest.approx(reference["jfk"], abs=2.0)
    assert shares[2].speaking_time_s == pytest.approx(reference["beckett"], abs=2.0)
    assert shares[1].turn_count >= 2 and shares[2].turn_count >= 2  # they take turns


def test_through_the_pipeline_the_answer_labels_every_word(conversation, models, tmp_path):
    path = tmp_path / "conversation.mp4"
    make_talking_head_video(path, conversation.audio, container="mp4", width=640, height=360)
    pipeline = Pipeline(
        local_stages(models["stt"], FaceLandmarker(), voice_encoder=models["voices"]),
        AnalysisOptions().pipeline_options(),
    )

    async def run():
        with open(path, "rb") as upload:
            return await pipeline.analyze(upload, AnalysisInput())

    body = build_full_analysis(asyncio.run(run()), None, None).model_dump(mode="json", by_alias=True)
    speakers = body["video_analysis"]["speakers"]
    assert speakers["speaker_count"] == 2 and speakers["analysed_speaker"] == 1
    assert len(speakers["turns"]) >= 4 and speakers["longest_monologue"]["speaker"] in (1, 2)
    labels = {w["speaker"] for w in body["transcript_details"]["words"]}
    assert labels == {1, 2}
    spoken_by = {w["word"].strip(".,").lower(): w["speaker"] for w in body["transcript_details"]["words"]}
    assert spoken_by["country"] == 1 and spoken_by["fail"] == 2
