"""Sentences of a transcript: one splitting rule for the engine, the summary and the request limits."""

from __future__ import annotations

import re

from models.errors import InvalidTranscript

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\S+")


def _count_up_to(pattern: re.Pattern, text: str, limit: int) -> int:
    """Matches of `pattern` in `text`, counted no further than limit + 1: the cost is bounded by the limit, not by
    the text."""
    count = 0
    for count, _ in enumerate(pattern.finditer(text), start=1):
        if count > limit:
            break
    return count


def check_transcript_limits(text: str, *, max_words: int, max_sentences: int) -> None:
    """A provided transcript within the request limits, checked before any work depends on its size."""
    if _count_up_to(_WORD, text, max_words) > max_words:
        raise InvalidTranscript(f"Field 'transcript' has more than {max_words} words (the limit).")
    if _count_up_to(SENTENCE_END, text, max_sentences - 1) + 1 > max_sentences:
        raise InvalidTranscript(f"Field 'transcript' has more than {max_sentences} sentences (the limit).")
