"""Speaker diarization on real voices (benchmarks/real), the coached speaker's view, conversation metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.speakers_accuracy import diarization_error
from benchmarks.speakers_set import SINGLE_SPEAKER_FILES, pyannote_sample, single_speaker, spliced_conversation
from softskills.models.speech.metrics import analyze_speech
from softskills.models.speech.speakers import (
    EVERYONE,
    MAX_SPEAKERS,
    Diarization,
    SpeakerSpan,
    VoiceEncoder,
    coached_speaker,
    conversation_metrics,
    diarize,
    resemblyzer_weights_path,
    speaker_view,
    turns_from_speech,
    word_speakers,
)
from softskills.models.speech.transcribe import Transcript, Word
from softskills.models.speech.voice import analyze_voice

SR = 16000


@pytest.fixture(scope="module")
def encoder() -> VoiceEncoder:
    return VoiceEncoder()


def _diarize(item, encoder, **kwargs):
    return diarize(item.audio, analyze_voice(item.audio).speech_segments, encoder, **kwargs)


def test_weights_are_the_ones_the_resemblyzer_wheel_ships(encoder):
    path = resemblyzer_weights_path()
    assert path.name == "pretrained.pt" and path.parent.name == "resemblyzer"
    assert path.stat().st_size > 10_000_000
    rng = np.random.default_rng(0)
    embeddings = encoder.embed([rng.normal(0, 0.1, SR * 2).astype(np.float32) for _ in range(3)])
    assert embeddings.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("path", SINGLE_SPEAKER_FILES, ids=lambda p: p.stem)
def test_a_single_speaker_recording_is_never_split(path, encoder):
    diarization = _diarize(single_speaker(path), encoder)
    assert diarization.speaker_count == 1
    assert {s.speaker for s in diarization.speech} == {1}


def _change_points(spans) -> list[float]:
    ordered = sorted(spans, key=lambda s: s[1])
    return [b[1] for a, b in zip(ordered, ordered[1:]) if a[0] != b[0]]


@pytest.mark.parametrize(
    "voices, seed",
    [
        (("allison", "carlo"), 3),
        (("june", "ivrvoice_ru"), 4),
        (("jfk", "beckett"), 1),
        (("mfa", "allison", "jfk"), 7),
        (("allison", "june", "ivrvoice_ru"), 10),
    ],
)
def test_spliced_real_voices_count_turns_and_boundaries(voices, seed, encoder):
    item = spliced_conversation(voices, overlap=False, seed=seed)
    diarization = _diarize(item, encoder)
    assert diarization.speaker_count == len(voices)
    error = diarization_error(item.reference, [(s.speaker, s.start_s, s.end_s) for s in diarization.speech])
    assert error.der < 0.1
    found = np.array(_change_points([(s.speaker, s.start_s, s.end_s) for s in diarization.speech]))
    errors_s = [min(abs(found - change_s)) for change_s in _change_points(item.reference)]
    # Turn boundaries within a second, but for a turn of one or two short phrases (too short to embed on its own)
    assert np.mean(np.array(errors_s) <= 1.0) >= 0.8, errors_s
    assert np.median(errors_s) <= 0.5, errors_s
    assert diarization.speech[0].speaker == 1  # numbered by first appearance
    assert diarization.closest_speakers_similarity is not None and diarization.closest_speakers_similarity < 0.85


def test_spliced_with_overlaps_keeps_the_count(encoder):
    item = spliced_conversation(("allison", "carlo"), overlap=True, seed=3)
    assert _diarize(item, encoder).speaker_count == 2


def test_real_two_person_conversation_has_two_speakers(encoder):
    assert _diarize(pyannote_sample(), encoder).speaker_count == 2


def test_speakers_expected_forces_the_count(encoder):
    item = spliced_conversation(("allison", "carlo"), overlap=False, seed=3)
    segments = analyze_voice(item.audio).speech_segments
    assert diarize(item.audio, segments, encoder, speakers_expected=1).speaker_count == 1
    assert diarize(item.audio, segments, encoder, speakers_expected=2).speaker_count == 2
    with pytest.raises(ValueError):
        diarize(item.audio, segments, encoder, speakers_expected=MAX_SPEAKERS + 1)


def test_no_speech_means_no_speakers(encoder):
    silence = np.zeros(SR * 3, dtype=np.float32)
    diarization = diarize(silence, (), encoder)
    assert diarization.speaker_count == 0 and diarization.turns == () and coached_speaker(diarization) is None


# --- words, coached speaker, speaker view (hand-built) ----------------------------------------------------------


def _word(text, start_s, end_s):
    return Word(text, start_s, end_s, 0.9)


def test_words_go_to_the_speaker_whose_speech_they_overlap():
    speech = (SpeakerSpan(1, 0.0, 2.0), SpeakerSpan(2, 2.0, 4.0), SpeakerSpan(1, 6.0, 7.0))
    words = [
        _word("hello", 0.1, 0.5),
        _word("straddles", 1.8, 2.5),
        _word("late", 4.3, 4.6),
        _word("far", 5.2, 5.3),
        _word("back", 6.2, 6.5),
    ]
    # "far" is 0.8 s from speaker 1's speech at 6.0 and 1.2 s from speaker 2's end at 4.0
    assert word_speakers(words, speech) == (1, 2, 2, 1, 1)
    assert word_speakers([_word("alone", 20.0, 20.5)], speech) == (None,)
    assert word_speakers(words, ()) == (None,) * 5


def _diarization(speech: tuple[SpeakerSpan, ...]) -> Diarization:
    return Diarization(len({s.speaker for s in speech}), speech, turns_from_speech(speech), "reference", None, None, 0)


def test_coached_speaker_is_the_one_who_talks_most_unless_asked():
    diarization = _diarization((SpeakerSpan(1, 0, 3), SpeakerSpan(2, 3.5, 10), SpeakerSpan(1, 10.5, 12)))
    assert coached_speaker(diarization) == 2
    assert coached_speaker(diarization, 1) == 1
    assert coached_speaker(diarization, EVERYONE) is None
    for bad in (0, 3, "2"):
        with pytest.raises(ValueError):
            coached_speaker(diarization, bad)


def test_speaker_view_leaves_out_the_other_speaker_so_pace_and_pauses_are_theirs():
    # Speaker 1 talks 0-4 s (with a 1.5 s pause of their own at 1.5-3.0), speaker 2 answers 5-9 s, speaker 1 again
    # 10-12 s. Each word lasts 0.3 s.
    speech = (SpeakerSpan(1, 0.0, 1.5), SpeakerSpan(1, 3.0, 4.0), SpeakerSpan(2, 5.0, 9.0), SpeakerSpan(1, 10.0, 12.0))
    diarization = _diarization(speech)
    times = [0.1, 0.5, 0.9, 3.1, 3.5, 5.2, 5.8, 6.5, 7.3, 8.2, 10.1, 10.6, 11.1, 11.6]
    words = tuple(_word(f"w{i}" + ("?" if i == 9 else ""), t, t + 0.3) for i, t in enumerate(times))
    transcript = Transcript(" ".join(w.text for w in words), words, "en", "speech_to_text", "measured", 0.9)
    rng = np.random.default_rng(1)
    audio = np.zeros(SR * 13, dtype=np.float32)
    for s in speech:
        audio[int(s.start_s * SR) : int(s.end_s * SR)] = rng.normal(0, 0.1, int(s.duration_s * SR))

    view = speaker_view(audio, transcript, diarization, 1)
    assert view.kept_s == ((0.0, 4.0), (10.0, 12.0))
    assert view.duration_s == pytest.approx(6.0) and len(view.audio) == 6 * SR
    assert [w.text for w in view.transcript.words] == [f"w{i}" for i in (0, 1, 2, 3, 4, 10, 11, 12, 13)]
    assert view.transcript.words[5].start_s == pytest.approx(4.1)  # 10.1 s, just after the cut at 4.0
    assert view.to_original_s(4.1) == pytest.approx(10.1) and view.to_original_s(1.0) == pytest.approx(1.0)

    metrics = analyze_speech(view.transcript, None, view.duration_s)
    assert [(round(p.start_s, 2), round(p.end_s, 2)) for p in metrics.pauses] == [(1.2, 3.1)]  # their own pause only
    # 9 words over 0.1-5.9 s of their timeline (the last ends at 11.9 s) minus that 1.9 s pause -> 138 wpm
    assert metrics.pace_wpm == pytest.approx(60 * 9 / ((5.9 - 0.1) - 1.9))
    restored = view.restore_speech_metrics(metrics)
    assert [(round(p.start_s, 2), round(p.end_s, 2)) for p in restored.pauses] == [(1.2, 3.1)]
    window_ends = [w.end_s for w in restored.rolling_pace]
    assert window_ends[0] == pytest.approx(11.0)  # the first 5 s of their timeline end 1 s into their second turn

    other = speaker_view(audio, transcript, diarization, 2)
    assert other.kept_s == ((5.0, 9.0),) and [w.text for w in other.transcript.words] == ["w5", "w6", "w7", "w8", "w9?"]


# --- conversation metrics ------------------------------------------------------------------------------------------


def test_conversation_metrics_on_hand_built_turns():
    speech = (
        SpeakerSpan(1, 0.0, 4.0),
        SpeakerSpan(1, 4.5, 10.0),  # speaker 1: one 10 s turn with a pause
        SpeakerSpan(2, 10.0, 12.0),  # speaker 2 comes in with no gap: an interruption
        SpeakerSpan(1, 13.0, 17.0),  # after a 1 s gap: not one
        SpeakerSpan(2, 14.0, 14.5),  # a backchannel inside speaker 1's turn: not one
        SpeakerSpan(2, 16.8, 20.0),  # starts before speaker 1 ends at 17 and goes on: an interruption
    )
    words = [_word("Why?", 10.2, 10.6), _word("because", 13.1, 13.5), _word("really?", 18.0, 18.4)]
    metrics = conversation_metrics(speech, words)
    one, two = metrics.speakers
    assert one.speaking_time_s == pytest.approx(13.5) and two.speaking_time_s == pytest.approx(5.7)
    assert one.talk_share == pytest.approx(13.5 / 19.2) and two.talk_share == pytest.approx(5.7 / 19.2)
    assert one.turn_count == 2 and two.turn_count == 3
    assert metrics.longest_monologue == SpeakerSpan(1, 0.0, 10.0)
    assert [(i.speaker, i.interrupted_speaker, i.start_s, round(i.gap_s, 2)) for i in metrics.interruptions] == [
        (2, 1, 10.0, 0.0),
        (2, 1, 16.8, -0.2),
    ]
    assert (one.interruption_count, two.interruption_count) == (0, 2)
    assert (one.question_count, two.question_count) == (0, 2)
    assert conversation_metrics(speech).speakers[0].question_count is None  # no transcript: not measured


_spans = st.lists(
    st.tuples(st.integers(1, 4), st.floats(0, 300, allow_nan=False), st.floats(0.1, 20, allow_nan=False)),
    min_size=1,
    max_size=25,
).map(lambda raw: tuple(SpeakerSpan(k, round(s, 2), round(s + d, 2)) for k, s, d in raw))


@settings(max_examples=150, deadline=None)
@given(_spans)
def test_conversation_metrics_add_up(speech):
    metrics = conversation_metrics(speech)
    turns = turns_from_speech(speech)
    assert sum(s.talk_share for s in metrics.speakers) == pytest.approx(1.0)
    assert sum(s.speaking_time_s for s in metrics.speakers) == pytest.approx(sum(s.duration_s for s in speech))
    assert sum(s.turn_count for s in metrics.speakers) == len(turns)
    assert sum(s.interruption_count for s in metrics.speakers) == len(metrics.interruptions) <= len(turns) - 1
    assert metrics.longest_monologue in turns
    assert metrics.longest_monologue.duration_s == max(t.duration_s for t in turns)
    for turn in turns:  # every stretch of speech lies in exactly one turn of its speaker
        assert turn.start_s < turn.end_s


@settings(max_examples=100, deadline=None)
@given(_spans, _spans, st.permutations([1, 2, 3, 4]))
def test_conversation_metrics_combine(first, second, relabel):
    # Two conversations one after the other, a third party's 1 s remark in between: everything adds up.
    remark = SpeakerSpan(5, 500.0, 501.0)
    later = tuple(SpeakerSpan(s.speaker, s.start_s + 1000.0, s.end_s + 1000.0) for s in second)
    both = conversation_metrics(first + (remark,) + later)
    a, b = conversation_metrics(first), conversation_metrics(second)
    time_s = {s.speaker: s.speaking_time_s for s in both.speakers}
    for s in (*a.speakers, *b.speakers):
        time_s[s.speaker] -= s.speaking_time_s
    assert time_s.pop(5) == pytest.approx(1.0) and all(abs(t) < 1e-6 for t in time_s.values())
    assert sum(s.turn_count for s in both.speakers) == 1 + sum(s.turn_count for s in (*a.speakers, *b.speakers))
    assert len(both.interruptions) == len(a.interruptions) + len(b.interruptions)
    assert both.longest_monologue.duration_s == pytest.approx(
        max(a.longest_monologue.duration_s, b.longest_monologue.duration_s, 1.0)
    )
    # Renaming the speakers changes nothing but the names.
    renamed = conversation_metrics(tuple(SpeakerSpan(relabel[s.speaker - 1], s.start_s, s.end_s) for s in first))
    assert sorted((round(s.speaking_time_s, 6), s.turn_count, s.interruption_count) for s in renamed.speakers) == (
        sorted((round(s.speaking_time_s, 6), s.turn_count, s.interruption_count) for s in a.speakers)
    )


# --- the DER used by the accuracy benchmark --------------------------------------------------------------------


def test_diarization_error_rate():
    reference = [("a", 0.0, 10.0), ("b", 10.0, 20.0)]
    assert diarization_error(reference, [(2, 0.0, 10.0), (1, 10.0, 20.0)]).der == 0.0  # names do not matter
    assert diarization_error(reference, []).der == pytest.approx(1.0)  # all missed
    confused = diarization_error(reference, [(1, 0.0, 20.0)])
    assert confused.confusion_s == pytest.approx(9.5, abs=0.02)  # b's 10 s less 0.25 s at either end
    assert confused.der == pytest.approx(9.5 / 19.0, abs=0.002)
    shifted = diarization_error(reference, [(1, 0.0, 10.2), (2, 10.2, 20.0)])
    assert shifted.der == 0.0  # within the 0.25 s collar
    assert diarization_error(reference, [(1, 0.0, 20.0), (2, 10.0, 20.0), (3, 25.0, 26.0)]).false_alarm_s == (
        pytest.approx(9.5 + 1.0, abs=0.02)
    )
