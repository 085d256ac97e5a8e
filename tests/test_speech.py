from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from softskills.models.speech.lexicons.germanic import DISFLUENT_PROMPT
from softskills.models.speech.transcribe import (
    SpeechToText,
    Transcript,
    Word,
    is_hallucination,
    normalize_word,
    transcript_from_text,
)

ASSETS = Path(__file__).parent.parent / "testkit" / "assets"


@pytest.fixture(scope="module")
def stt():
    return SpeechToText(cpu_threads=2)


def test_beckett_transcript(stt):
    audio, sr = sf.read(ASSETS / "speech_beckett.wav", dtype="float32")
    assert sr == 16000
    t = stt.transcribe(audio)
    words = [w.normalized for w in t.words]
    for expected in ("tried", "failed", "matter", "better"):
        assert expected in words
    assert t.source == "speech_to_text" and t.timing == "measured" and t.language == "en"
    assert 0.5 < t.confidence <= 1.0
    assert all(w.text == w.text.strip() and 0 <= w.start_s <= w.end_s <= 10.0 for w in t.words)
    assert [w.start_s for w in t.words] == sorted(w.start_s for w in t.words)
    assert t.segments and t.segments[0][0] <= t.words[0].start_s


@pytest.mark.parametrize("audio", [np.zeros(0, np.float32), np.zeros(16000 * 2, np.float32)])
def test_empty_or_silent_audio_gives_no_words(stt, audio):
    t = stt.transcribe(audio)
    assert t.words == () and t.text == "" and t.confidence is None


def test_prompt_is_disfluent():
    assert "Umm" in DISFLUENT_PROMPT and "Uh" in DISFLUENT_PROMPT


def test_real_recording_transcribes_the_same_every_time(stt):
    # Greedy decoding (no temperature sampling): the breath at the end used to come back as "Slide." or "that."
    # depending on the run; now it is decoded once, dropped as a low-confidence guess, and the words repeat.
    audio, _ = sf.read(ASSETS / "speech_beckett.wav", dtype="float32")
    first, second = stt.transcribe(audio), stt.transcribe(audio)
    assert first.words == second.words
    assert first.text == "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."


def test_hallucinated_repeat_needs_both_signals():
    # Whisper's tail repeat on the accuracy set: "Thank you for listening. Thank you." (no-speech prob 0.58).
    repeat = [Word("Thank", 12.98, 12.98, 0.08), Word("you.", 12.98, 13.22, 0.97)]
    assert is_hallucination(0.58, repeat)
    # The test fixture's: "Thank" is not zero-length, but improbable, opening a segment the model hears as silence.
    assert is_hallucination(0.68, [Word("Thank", 13.98, 14.16, 0.02), Word("you.", 14.16, 14.38, 0.99)])
    assert not is_hallucination(0.2, repeat)  # the model hears speech there
    spoken = [Word("Thank", 11.64, 12.04, 0.97), Word("you", 12.04, 12.28, 0.98)]
    assert not is_hallucination(0.58, spoken)  # ordinary words
    assert not is_hallucination(0.9, [])


def test_normalize_word():
    assert normalize_word(" Um,") == "um"
    assert normalize_word("I'm.") == "i'm"
    assert normalize_word("\u201cWell\u2026\u201d") == "well"
    assert Word("Fail,", 0, 1, 0.9).normalized == "fail"


def test_transcript_from_text_spreads_words_over_speech():
    t = transcript_from_text("aa bbbb cc dddd", [(1.0, 2.0), (4.0, 5.0)])
    assert isinstance(t, Transcript)
    assert t.source == "provided" and t.timing == "estimated" and t.confidence is None
    assert [w.text for w in t.words] == ["aa", "bbbb", "cc", "dddd"]
    # 12 characters over 2 s of speech: aa 1/3 s, bbbb 2/3 s (fills segment one), cc and dddd in segment two.
    assert t.words[0].start_s == pytest.approx(1.0) and t.words[0].end_s == pytest.approx(1.333, abs=0.01)
    assert t.words[1].end_s == pytest.approx(2.0, abs=0.01)
    assert t.words[2].start_s == pytest.approx(4.0, abs=0.01)
    assert t.words[3].end_s == pytest.approx(5.0, abs=0.01)
    assert all(not (w.start_s < 3.0 < w.end_s) for w in t.words)  # no word spans the pause
    assert t.segments == ((1.0, 5.0, "aa bbbb cc dddd"),)


def test_transcript_from_text_without_speech():
    t = transcript_from_text("hello there", [])
    assert [w.text for w in t.words] == ["hello", "there"] and all(w.end_s == 0 for w in t.words)
    assert transcript_from_text("", [(0, 1)]).words == ()
