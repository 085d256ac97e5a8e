"""Sentences of a transcript: one splitting rule for the engine, the summary and the request limits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from softskills.models.errors import InvalidTranscript

# After . ! ? a space ends a sentence; Japanese and Chinese full stops end one without a space after them.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
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


@dataclass(frozen=True)
class Sentence:
    text: str
    start_s: float | None
    end_s: float | None


def split_sentences(transcript: Any) -> list[Sentence]:
    """Sentences on .!? boundaries, each timed from the words it contains (or, without words, the segments).
    Linear in the text: sentences and timed spans are both in text order, so one sweep pairs them."""
    if transcript is None:
        return []
    get = (
        transcript.get if isinstance(transcript, dict) else lambda key, default=None: getattr(transcript, key, default)
    )
    text = (get("text", "") or "").strip()
    if not text:
        return []
    spans = _timed_spans(text, get("words", None) or ()) or _timed_spans(text, get("segments", None) or ())
    sentences = []
    cursor = first_span = 0
    for piece in SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        start = text.find(piece, cursor)
        end = start + len(piece)
        cursor = end
        while first_span < len(spans) and spans[first_span][1] <= start:
            first_span += 1
        last_span = first_span
        while last_span < len(spans) and spans[last_span][0] < end:
            last_span += 1
        inside = spans[first_span:last_span]
        sentences.append(Sentence(piece, inside[0][2] if inside else None, inside[-1][3] if inside else None))
    return sentences


# A timed item is looked for this far past the previous one: words and segments come in text order, so a piece
# that is not near the cursor is not in the text at all (and a bounded search keeps matching linear).
_SPAN_SEARCH_CHARS = 200


def _timed_spans(text: str, items: Any) -> list[tuple[int, int, float, float]]:
    """(char_start, char_end, start_s, end_s) for each timed item found in order in `text`."""
    spans = []
    cursor = 0
    for item in items:
        parsed = _timed_item(item)
        if parsed is None:
            continue
        start_s, end_s, piece = parsed
        piece = piece.strip()
        at = text.find(piece, cursor, cursor + len(piece) + _SPAN_SEARCH_CHARS) if piece else -1
        if at < 0:
            continue
        spans.append((at, at + len(piece), start_s, end_s))
        cursor = at + len(piece)
    return spans


def _timed_item(item: Any) -> tuple[float, float, str] | None:
    """Accepts (start_s, end_s, text) sequences, dicts, or objects like faster-whisper's Word/Segment."""
    if isinstance(item, (list, tuple)) and len(item) >= 3:
        start, end, text = item[0], item[1], item[2]
    elif isinstance(item, dict):
        start = item.get("start_s", item.get("start"))
        end = item.get("end_s", item.get("end"))
        text = item.get("text", item.get("word"))
    else:
        start = getattr(item, "start_s", getattr(item, "start", None))
        end = getattr(item, "end_s", getattr(item, "end", None))
        text = getattr(item, "text", getattr(item, "word", None))
    if not _is_time(start) or not _is_time(end) or not isinstance(text, str):
        return None
    return float(start), float(end), text


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
