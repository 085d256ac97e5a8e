"""Language coaching metrics on transcripts with known counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softskills.models.speech.language import MATTR_WINDOW, analyze_language, mattr
from softskills.models.speech.transcribe import Word


def words_from(text: str, step_s: float = 0.4) -> list[Word]:
    return [Word(t, i * step_s, i * step_s + 0.3, 0.9) for i, t in enumerate(text.split())]


def test_hedges_are_counted_with_their_times():
    words = words_from("I think we should maybe ship it. It is kind of slow. What kind of car? I just think so.")
    metrics = analyze_language(words)
    assert [h.text for h in metrics.hedges] == ["i think", "maybe", "kind of", "just"]
    assert metrics.hedges[0].start_s == words[0].start_s and metrics.hedges[0].end_s == words[1].end_s
    assert metrics.hedge_rate_per_100_words == pytest.approx(100 * 4 / len(words))


def test_just_as_a_time_or_degree_adverb_is_not_a_hedge():
    assert analyze_language(words_from("It arrived just now and it is just as good.")).hedges == ()


def test_a_phrase_said_twelve_times_is_one_repeated_phrase():
    text = " ".join(f"let's say option {i} works." for i in range(12))
    phrases = analyze_language(words_from(text)).repeated_phrases
    assert phrases[0].text == "let's say option"
    assert phrases[0].count == 12 and len(phrases[0].times_s) == 12
    assert all(p.count >= 3 for p in phrases)


def test_a_longer_repeated_phrase_hides_the_phrases_inside_it():
    text = "so let's say we go. " * 3 + "then we stop."
    phrases = analyze_language(words_from(text)).repeated_phrases
    assert [(p.text, p.count) for p in phrases] == [("so let's say we", 3)]


def test_function_words_alone_are_not_a_phrase():
    assert analyze_language(words_from("and then it was and then it was and then it was")).repeated_phrases == ()


def test_mattr_is_none_below_one_window_and_one_for_all_new_words():
    assert mattr(["a"] * (MATTR_WINDOW - 1)) is None
    assert mattr([f"w{i}" for i in range(120)]) == 1.0
    assert mattr(["same"] * 60) == pytest.approx(1 / MATTR_WINDOW)


@given(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"]), min_size=MATTR_WINDOW, max_size=200))
def test_mattr_equals_the_mean_of_window_type_token_ratios(tokens):
    windows = [len(set(tokens[i : i + MATTR_WINDOW])) / MATTR_WINDOW for i in range(len(tokens) - MATTR_WINDOW + 1)]
    assert mattr(tokens) == pytest.approx(sum(windows) / len(windows))


def test_questions_are_the_sentences_that_end_with_a_question_mark():
    words = words_from("We grew fast. Why did that happen? Two reasons. Does it last?")
    asked = analyze_language(words).questions
    assert [q.text for q in asked] == ["Why did that happen?", "Does it last?"]
    assert asked[0].start_s == words[3].start_s
