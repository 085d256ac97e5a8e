import numpy as np

from softskills.models.speech.segments import merge_transcripts, split_at_silences
from softskills.models.speech.transcribe import Transcript, Word

SR = 16000


def _tone_with_gaps(duration_s: float, gaps: list[tuple[float, float]]) -> np.ndarray:
    t = np.arange(int(duration_s * SR)) / SR
    audio = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    for a, b in gaps:
        audio[int(a * SR) : int(b * SR)] = 0.0
    return audio


def test_long_audio_is_cut_inside_the_silences():
    audio = _tone_with_gaps(100.0, [(25.0, 26.0), (52.0, 53.0), (79.0, 80.0)])
    ranges = split_at_silences(audio, SR, 30.0)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(audio)
    assert all(b == c for (_, b), (c, _) in zip(ranges, ranges[1:]))
    cuts_s = [b / SR for _, b in ranges[:-1]]
    assert len(cuts_s) == 3
    for cut, (a, b) in zip(cuts_s, [(25.0, 26.0), (52.0, 53.0), (79.0, 80.0)]):
        assert a <= cut <= b


def test_short_audio_stays_whole():
    assert split_at_silences(np.zeros(SR * 10, np.float32), SR, 30.0) == [(0, SR * 10)]
    assert split_at_silences(np.zeros(0, np.float32), SR, 30.0) == []


def test_merged_transcript_has_absolute_times():
    first = Transcript(
        "Hello there.",
        (Word("Hello", 0.5, 0.9, 0.8), Word("there.", 1.0, 1.4, 0.6)),
        "en",
        "speech_to_text",
        "measured",
        0.7,
        ((0.5, 1.4, "Hello there."),),
    )
    second = Transcript(
        "Bye.", (Word("Bye.", 0.2, 0.6, 1.0),), "en", "speech_to_text", "measured", 1.0, ((0.2, 0.6, "Bye."),)
    )
    empty = Transcript("", (), "en", "speech_to_text", "measured", None, ())
    merged = merge_transcripts([(0.0, first), (30.0, empty), (60.0, second)])
    assert merged.text == "Hello there. Bye."
    assert [(w.text, w.start_s, w.end_s) for w in merged.words] == [
        ("Hello", 0.5, 0.9),
        ("there.", 1.0, 1.4),
        ("Bye.", 60.2, 60.6),
    ]
    assert merged.segments == ((0.5, 1.4, "Hello there."), (60.2, 60.6, "Bye."))
    assert abs(merged.confidence - 0.8) < 1e-9
