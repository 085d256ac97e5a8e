"""The units the text metrics count. Where the language writes spaces between words, the recogniser's words. Japanese
and Chinese do not: Whisper's "words" there are pieces of its own vocabulary (often single characters), so the text
is split again by a morphological analyser (sudachipy with its small dictionary for Japanese, jieba for Chinese),
each token timed from the words it overlaps; punctuation is attached to the token before it, as Whisper attaches it
to words, so the clause and sentence rules read it the same way.

Both analysers are imported on first use (sudachipy ~0.1 s, 116 MB installed with its dictionary; jieba ~0.9 s the
first time, 42 MB), so English-only services never load them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from softskills.models.speech.lexicons import Lexicon, lexicon
from softskills.models.speech.transcribe import Word, normalize_word

SENTENCE_END = ".!?\u2026。！？"
CLAUSE_END = SENTENCE_END + ",;:-、，；："
QUESTION_END = "?？"
_ANALYSER_LOCK = threading.Lock()  # the analysers keep state per call; a replica may run requests in threads


@dataclass(frozen=True)
class Morpheme:
    text: str
    start: int  # character offsets in the analysed text
    end: int
    reading: str | None  # katakana reading (Japanese)


@lru_cache(maxsize=1)
def _sudachi():
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="small").tokenizer(mode=SplitMode.C)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def morphemes(text: str, language: str) -> list[Morpheme]:
    """The analyser's tokens of `text` (Japanese or Chinese), with their offsets."""
    with _ANALYSER_LOCK:
        if language == "ja":
            return [Morpheme(m.surface(), m.begin(), m.end(), m.reading_form()) for m in _sudachi().tokenize(text)]
        if language == "zh":
            return [Morpheme(w, start, end, None) for w, start, end in _jieba().tokenize(text)]
    raise ValueError(f"No morphological analyser for {language!r}")


def text_tokens(words: Sequence[Word], language: str | None) -> list[Word]:
    """The tokens the text metrics count, as Words (text with punctuation attached, times, probability)."""
    lex = lexicon(language)
    if lex is None or lex.spaced or not words:
        return list(words)
    texts = [w.text.strip() for w in words]
    starts = [0]
    for t in texts:
        starts.append(starts[-1] + len(t))
    pieces = _join_fillers(morphemes("".join(texts), lex.language), lex)
    out: list[Word] = []
    for m in pieces:
        if not normalize_word(m.text):  # punctuation: belongs to the token before it, like Whisper's "Um,"
            if out:
                out[-1] = Word(out[-1].text + m.text, out[-1].start_s, out[-1].end_s, out[-1].probability)
            continue
        first, last = _word_at(starts, m.start), _word_at(starts, m.end - 1)
        covered = words[first : last + 1]
        out.append(
            Word(
                m.text,
                _time(words, starts, texts, first, m.start),
                _time(words, starts, texts, last, m.end),
                sum(w.probability for w in covered) / len(covered),
            )
        )
    return out


def _join_fillers(pieces: list[Morpheme], lex: Lexicon) -> list[Morpheme]:
    """A filler the analyser cut in pieces (えー + と) becomes one token again: the longest run of up to three
    pieces that spells a hesitation, a particle or a marker of the lexicon."""
    out, i = [], 0
    while i < len(pieces):
        for n in (3, 2, 1):
            run = pieces[i : i + n]
            joined = "".join(p.text for p in run)
            if (
                n == 1
                or len(run) == n
                and all(normalize_word(p.text) == p.text for p in run)
                and (lex.hesitation.match(joined) or (joined,) in lex.particles or (joined,) in lex.markers)
            ):
                break
        reading = "".join(p.reading or "" for p in run) if any(p.reading for p in run) else None
        out.append(Morpheme("".join(p.text for p in run), run[0].start, run[-1].end, reading))
        i += len(run)
    return out


def _word_at(starts: list[int], offset: int) -> int:
    """Index of the word whose characters include `offset`."""
    lo, hi = 0, len(starts) - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _time(words: Sequence[Word], starts: list[int], texts: list[str], index: int, offset: int) -> float:
    """The time of a character boundary inside word `index`, its characters sharing the word's span evenly."""
    w = words[index]
    share = (offset - starts[index]) / max(len(texts[index]), 1)
    return round(w.start_s + min(max(share, 0.0), 1.0) * (w.end_s - w.start_s), 3)


def ends_clause(text: str) -> bool:
    return text.rstrip().endswith(tuple(CLAUSE_END))


def ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(tuple(SENTENCE_END))
