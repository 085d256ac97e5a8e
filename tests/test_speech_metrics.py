import io
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from softskills.models.speech.metrics import (
    FILLED_PAUSE_LABEL,
    acoustic_fillers,
    analyze_speech,
    lexical_fillers,
    rolling_pace,
)
from softskills.models.speech.transcribe import SpeechToText, Transcript, Word
from softskills.models.speech.voice import analyze_voice

SR = 16000


def espeak(text: str, speed: int = 150, ssml: bool = False) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    cmd = ["espeak-ng", "-v", "en-us", "-s", str(speed), "--stdout"] + (["-m"] if ssml else []) + [text]
    audio, sr = sf.read(io.BytesIO(subprocess.run(cmd, capture_output=True, check=True).stdout), dtype="float32")
    return resample_poly(audio, SR, sr).astype(np.float32)


def words_from(text: str, gap_s: float = 0.1, word_s: float = 0.3, pauses: dict[int, float] | None = None):
    """Hand-built words: each word_s long, gap_s apart; pauses maps word index -> silence before it."""
    out, t = [], 0.0
    for i, tok in enumerate(text.split()):
        t += (pauses or {}).get(i, gap_s if i else 0.0)
        out.append(Word(tok, t, t + word_s, 0.9))
        t += word_s
    return out


def transcript(words) -> Transcript:
    return Transcript(" ".join(w.text for w in words), tuple(words), "en", "speech_to_text", "measured", 0.9)


def lex(text: str, **kw) -> list[str]:
    return [f.word for f in lexical_fillers(words_from(text, **kw))]


@pytest.fixture(scope="module")
def stt():
    return SpeechToText(cpu_threads=2)


# Lexical rules ---------------------------------------------------------------------------------------------


def test_always_fillers_any_spelling():
    assert lex("Um, I think, uhh, we erm should hmm go. Mm ah") == ["um", "uhh", "erm", "hmm", "mm", "ah"]
    assert lex("Ummm the plan") == ["ummm"]
    assert lex("the umbrella is uphill") == []


def test_like_filler_versus_verb_and_comparison():
    assert lex("It was, like, really good.") == ["like"]
    assert lex("I like pizza.") == []
    assert lex("I would like a coffee.") == []
    assert lex("It looks like rain.") == []
    assert lex("She was like amazed.") == []  # quotative, no comma
    assert lex("I feel like, going home.") == []
    assert lex("Like I said, we start now.") == []  # sentence-initial conjunction
    assert lex("Like, we start now.") == ["like"]
    assert lex("and like we just left", pauses={1: 0.5}) == ["like"]  # set off by a pause


def test_so_only_sentence_initial_and_set_off():
    assert lex("So, the results are in.") == ["so"]
    assert lex("Done. So, next one.") == ["so"]
    assert lex("It was so good.") == []
    assert lex("So we left.") == []
    assert lex("So we left.", pauses={1: 0.5}) == ["so"]


def test_hedges_only_when_set_off():
    assert lex("Basically, it works.") == ["basically"]
    assert lex("It was, actually, fine.") == ["actually"]
    assert lex("I actually like it.") == []
    assert lex("That is literally the rule.") == []


def test_multi_word_fillers():
    assert lex("We should, you know, leave.") == ["you know"]
    assert lex("Do you know the answer?") == []
    assert lex("I mean, it works.") == ["i mean"]
    assert lex("That is what I mean.") == []
    assert lex("It is kind of slow and sort of late.") == []  # hedges, counted by models/speech/language.py


def test_filler_times_span_both_words():
    f = lexical_fillers(words_from("We should, you know, leave."))
    ws = words_from("We should, you know, leave.")
    assert (f[0].start_s, f[0].end_s, f[0].method) == (ws[2].start_s, ws[3].end_s, "lexical")


# Acoustic filled pauses ------------------------------------------------------------------------------------


def test_acoustic_filled_pause_between_words():
    sr = SR
    t = np.arange(int(0.6 * sr)) / sr
    hum = (0.3 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)  # a flat "uhhh"
    audio = np.concatenate([np.zeros(sr, np.float32), hum, np.zeros(sr, np.float32)])
    voice = analyze_voice(audio)
    words = [Word("well", 0.1, 0.5, 0.9), Word("okay", 2.0, 2.4, 0.9)]
    found = acoustic_fillers(words, voice)
    assert len(found) == 1 and found[0].word == FILLED_PAUSE_LABEL and found[0].method == "acoustic"
    assert found[0].start_s == pytest.approx(1.0, abs=0.1) and found[0].end_s == pytest.approx(1.6, abs=0.1)
    # Covered by an aligned word: not a filler.
    assert acoustic_fillers([Word("oh", 1.0, 1.6, 0.9)], voice) == []


# Pace and pauses -------------------------------------------------------------------------------------------


def test_pace_and_pauses_on_hand_built_words():
    ws = words_from("a b c d e f g h", gap_s=0.1, word_s=0.4, pauses={4: 1.5, 6: 2.5})
    m = analyze_speech(transcript(ws), None, duration_s=12.0, window_s=5.0)
    span = ws[-1].end_s - ws[0].start_s
    assert m.word_count == 8
    assert [round(p.duration_s, 2) for p in m.pauses] == [1.5, 2.5]
    assert [p.is_long for p in m.pauses] == [False, True] and m.long_pause_count == 1
    assert m.mean_pause_s == pytest.approx(2.0)
    assert m.speaking_time_s == pytest.approx(span - 4.0)
    assert m.pace_wpm == pytest.approx(8 / (span - 4.0) * 60)
    assert m.articulation_rate_wpm == pytest.approx(8 / (8 * 0.4 + 5 * 0.1) * 60)  # gaps of 0.1 s kept
    assert [w.words for w in m.rolling_pace] == [6, 2, 0]
    assert sum(w.words for w in m.rolling_pace) == 8


def test_rolling_pace_drops_tiny_tail_window():
    ws = words_from("a b c")
    assert [(w.start_s, w.end_s) for w in rolling_pace(ws, 10.5, 5.0)] == [(0.0, 5.0), (5.0, 10.0)]


def test_no_words_gives_none_not_invented():
    m = analyze_speech(transcript([]), None, duration_s=10.0)
    assert m.word_count == 0 and m.pace_wpm is None and m.articulation_rate_wpm is None
    assert m.filler_rate_per_min is None and m.pauses == () and m.mean_pause_s is None


def test_fillers_counted_and_ranked():
    # "so" after "Um," is not sentence-initial, so it is not counted.
    m = analyze_speech(transcript(words_from("Um, so, um I mean, it was, like, fine. Uh")), None, 5.0)
    assert m.filler_count == 5
    assert m.top_fillers[0] == ("um", 2)
    assert m.filler_rate_per_min == pytest.approx(5 / m.speaking_time_s * 60)


# End to end with synthetic speech (loads Whisper once) -----------------------------------------------------

PACE_TEXT = (
    "The quick brown fox jumps over the lazy dog while small children watch from the garden "
    "and laugh at the silly animals playing in the warm afternoon sun"
)


@pytest.mark.parametrize("speed", [120, 180])
def test_measured_pace_matches_waveform_truth(stt, speed):
    audio = espeak(PACE_TEXT, speed)
    loud = np.flatnonzero(np.abs(audio) > 1e-3)
    true_wpm = len(PACE_TEXT.split()) / ((loud[-1] - loud[0]) / SR) * 60  # no pause >= 1 s in this text
    m = analyze_speech(stt.transcribe(audio), analyze_voice(audio), len(audio) / SR)
    assert m.pace_wpm == pytest.approx(true_wpm, rel=0.15)


def test_ssml_break_is_a_long_pause(stt):
    audio = espeak('<speak>one two three <break time="2500ms"/> four five</speak>', ssml=True)
    silent = np.concatenate([[0], (np.abs(audio) < 1e-3).astype(np.int8), [0]])
    starts, ends = np.flatnonzero(np.diff(silent) == 1), np.flatnonzero(np.diff(silent) == -1)
    k = int(np.argmax(ends - starts))
    true_start, true_end = starts[k] / SR, ends[k] / SR
    m = analyze_speech(stt.transcribe(audio), analyze_voice(audio), len(audio) / SR)
    assert len(m.pauses) == 1 and m.pauses[0].is_long
    assert m.pauses[0].start_s == pytest.approx(true_start, abs=0.3)
    assert m.pauses[0].end_s == pytest.approx(true_end, abs=0.3)


def test_prompted_stt_keeps_um(stt):
    audio = espeak("We tried the new approach and, um, it worked. The budget is, um, about ten dollars.")
    m = analyze_speech(stt.transcribe(audio), None, len(audio) / SR)
    assert dict(m.top_fillers).get("um", 0) + dict(m.top_fillers).get("umm", 0) >= 1


# Word timing drift (found by benchmarks/accuracy.py) --------------------------------------------------------


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * (150 + 40 * np.sin(2 * np.pi * 3 * t)) * t)).astype(np.float32)


def _speech_with_silences(parts: list[tuple[str, float]]) -> np.ndarray:
    """("s", seconds) = a pitch-varying tone standing in for speech, ("_", seconds) = digital silence."""
    return np.concatenate([_tone(d) if kind == "s" else np.zeros(int(d * SR), np.float32) for kind, d in parts])


def test_pause_edges_follow_the_energy_when_a_word_end_drifts_far_into_the_silence():
    # Speech 0.5-2.0 s, silence 2.0-4.5 s, speech 4.5-6.0 s; speech-to-text stretched "two" to 4.0 s.
    voice = analyze_voice(_speech_with_silences([("_", 0.5), ("s", 1.5), ("_", 2.5), ("s", 1.5), ("_", 0.5)]))
    ws = [Word("one", 0.5, 1.2, 0.9), Word("two", 1.2, 4.0, 0.9), Word("three", 4.5, 6.0, 0.9)]
    m = analyze_speech(transcript(ws), voice, duration_s=6.5)
    assert len(m.pauses) == 1 and m.pauses[0].is_long
    assert m.pauses[0].start_s == pytest.approx(2.0, abs=0.1) and m.pauses[0].end_s == pytest.approx(4.5, abs=0.1)


def test_a_word_lying_in_silence_does_not_split_the_pause_or_stretch_the_span():
    voice = analyze_voice(_speech_with_silences([("_", 0.5), ("s", 1.5), ("_", 2.0), ("s", 1.5), ("_", 1.0)]))
    # "lost" is a zero-length word in the middle of the silence; the first word starts early, the last ends late.
    ws = [Word("one", 0.1, 2.0, 0.9), Word("lost", 3.0, 3.0, 0.9), Word("three", 4.0, 6.4, 0.9)]
    m = analyze_speech(transcript(ws), voice, duration_s=7.0)
    assert [(round(p.start_s, 1), round(p.end_s, 1)) for p in m.pauses] == [(2.0, 4.0)]
    assert m.word_count == 3
    assert m.speaking_time_s == pytest.approx(3.0, abs=0.2)  # 0.5-5.5 s minus the 2 s pause
    assert m.pace_wpm == pytest.approx(60.0, rel=0.07)


def test_a_word_gap_full_of_voice_is_not_a_pause():
    # Speech 0.5-3.5 s (a drawn-out "umm" at 2.0-3.0 s that speech-to-text timed as zero length at 3.0 s),
    # silence 3.5-5.0 s, speech 5.0-6.0 s: only the real silence is a pause.
    voice = analyze_voice(_speech_with_silences([("_", 0.5), ("s", 3.0), ("_", 1.5), ("s", 1.0), ("_", 0.5)]))
    ws = [
        Word("one", 0.5, 2.0, 0.9),
        Word("umm,", 3.0, 3.0, 0.3),
        Word("two", 3.0, 3.5, 0.9),
        Word("three", 5.0, 6.0, 0.9),
    ]
    m = analyze_speech(transcript(ws), voice, duration_s=6.5)
    assert [(round(p.start_s, 1), round(p.end_s, 1)) for p in m.pauses] == [(3.5, 5.0)]
    assert m.speaking_time_s == pytest.approx(4.0, abs=0.1)  # 0.5-6.0 s minus the 1.5 s pause


def test_flat_voicing_next_to_a_transcribed_filler_is_not_counted_twice():
    sr = SR
    t = np.arange(int(0.6 * sr)) / sr
    hum = (0.3 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)
    audio = np.concatenate([_tone(1.0), np.zeros(sr // 2, np.float32), hum, np.zeros(sr // 2, np.float32), _tone(1.0)])
    voice = analyze_voice(audio)
    # Whisper timed "um" late: 2.05-2.35 s, while the sound lasts 1.5-2.1 s.
    ws = [Word("well", 0.0, 1.0, 0.9), Word("um,", 2.05, 2.35, 0.9), Word("yes", 2.6, 3.6, 0.9)]
    assert len(acoustic_fillers(ws, voice)) == 1  # the uncovered part of the "um" on its own
    m = analyze_speech(transcript(ws), voice, duration_s=3.6)
    assert [(f.word, f.method) for f in m.fillers] == [("um", "lexical")]


def test_one_stretched_filler_written_as_repeats_is_one_filler():
    """Whisper's word times on a real clip of "uh"s (MFA's mfa_uhuh.flac): four spaced apart, then one drawn-out
    stretch written as six "uh," starting 0-120 ms apart. Five fillers, not ten."""
    starts = [2.58, 4.06, 4.44, 4.66, 5.44, 5.50, 5.52, 5.54, 5.56, 5.56]
    words = (
        [Word("Montreal,", 1.02, 1.32, 0.98)]
        + [Word("uh,", s, s + 0.04, 0.9) for s in starts]
        + [Word("forced", 5.68, 5.9, 0.8)]
    )
    fillers = lexical_fillers(words)
    assert [round(f.start_s, 2) for f in fillers] == [2.58, 4.06, 4.44, 4.66, 5.44]
    assert fillers[-1].end_s == pytest.approx(5.60)
