"""Request limits on a provided transcript, checked at a cost bounded by the limit."""

import pytest

from softskills.models.errors import InvalidTranscript
from softskills.models.interpretation.sentences import check_transcript_limits


def test_a_transcript_within_the_limits_passes():
    check_transcript_limits("Ever tried. Ever failed. No matter.", max_words=6, max_sentences=3)


def test_too_many_words_names_the_limit():
    with pytest.raises(InvalidTranscript, match="more than 5 words"):
        check_transcript_limits("one two three four five six", max_words=5, max_sentences=10)


def test_too_many_sentences_names_the_limit():
    with pytest.raises(InvalidTranscript, match="more than 2 sentences"):
        check_transcript_limits("A. B. C.", max_words=100, max_sentences=2)


def test_the_check_stops_at_the_limit_on_a_huge_field():
    bomb = "a. " * 3_000_000  # 9 MB of one-word sentences: refused after 12001 words are counted
    with pytest.raises(InvalidTranscript, match="12000 words"):
        check_transcript_limits(bomb, max_words=12000, max_sentences=2000)
