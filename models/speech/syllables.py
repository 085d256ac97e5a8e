"""Pace units per word: syllables for languages written with spaces (pyphen's hyphenation dictionaries, the
LibreOffice/TeX patterns, corrected for the vowel sequences they never split: see `HIATUS`), morae for Japanese
(from sudachipy's kana reading) and syllables for Chinese (one per Han character: every Han character is one
syllable).

Hyphenation is not syllabification: the patterns leave one-letter parts at word edges whole ("abier-to") and
never split two vowels ("aé-reo"). The corrections below split them where the language's spelling rules make the
vowels separate syllables. Measured against hand counts on 25 words per language (benchmarks/languages_text.py
`syllable_accuracy`), see docs/results.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from softskills.models.speech.lexicons import lexicon
from softskills.models.speech.tokens import morphemes
from softskills.models.speech.transcribe import Word, normalize_word

# The pyphen dictionary per language (pyphen ships LibreOffice's hyphenation patterns).
PYPHEN_DICTIONARIES = {"en": "en_US", "es": "es", "fr": "fr", "de": "de_DE", "it": "it_IT", "pt": "pt_BR"}
# Vowels that stay separate syllables when adjacent (hiatus). Spanish, Portuguese and Italian: two of the open
# vowels a, e, o, or a stressed í/ú next to any vowel (RAE Ortografía 2010 §1.2.1.1.2; the same rule holds for
# Portuguese and Italian spelling; Portuguese nasal ão/ãe/õe are diphthongs). German: the vowel pairs that are
# not diphthongs (ai au ei eu äu ie are). French: a diaeresis, or é before another vowel.
_OPEN = "aeoáéóàèòâêôãõ"
_STRESSED_CLOSE = "íúìù"
_VOWELS = "aeiouyáéíóúàèìòùâêîôûãõäöüëïœæ"
_NASAL = "ãõ"
_DIAERESIS = "ëïü"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_DIGIT = re.compile(r"\d")
_LATIN_RUN = re.compile(r"[^\W\d_]+")
_SMALL_KANA = set("ァィゥェォャュョヮヵヶ")


def _is_hiatus(a: str, b: str, language: str) -> bool:
    if language in ("es", "pt", "it"):
        if language == "pt" and a in _NASAL:  # ão, ãe, õe are diphthongs
            return False
        return (a in _OPEN and b in _OPEN) or a in _STRESSED_CLOSE or b in _STRESSED_CLOSE
    if language == "de":
        return a + b not in ("ai", "au", "ei", "eu", "äu", "ie", "ey", "ay", "aa", "ee", "oo")
    if language == "fr":  # a diaeresis separates (naïf, Noël), and so does é before a, o, i, u (réaliser)
        return b in _DIAERESIS or (a == "é" and b in "aoiuâô")
    return False


@lru_cache(maxsize=16)
def _hyphenator(language: str):
    import pyphen

    name = PYPHEN_DICTIONARIES.get(language, language)
    if name not in pyphen.LANGUAGES:
        return None
    return pyphen.Pyphen(lang=name, left=1, right=1)


def word_syllables(word: str, language: str) -> int | None:
    """Syllables in one written word (None where pyphen has no dictionary for the language). Digits count one
    syllable each (a number read out is at least that long: an approximation, see docs/results.md)."""
    hyphenator = _hyphenator(language)
    if hyphenator is None:
        return None
    text = normalize_word(word)
    count = len(_DIGIT.findall(text))
    for run in _LATIN_RUN.findall(text):
        parts = hyphenator.inserted(run).split("-")
        for part in parts:
            count += _part_syllables(part, language)
    return count


def _part_syllables(part: str, language: str) -> int:
    """One hyphenation part is one syllable, plus one for each hiatus inside it; a part without a vowel letter
    (a stray consonant the patterns cut off) adds nothing."""
    letters = unicodedata.normalize("NFC", part)
    vowels = [i for i, c in enumerate(letters) if c in _VOWELS]
    if not vowels:
        return 0
    extra = sum(1 for i, j in zip(vowels, vowels[1:]) if j == i + 1 and _is_hiatus(letters[i], letters[j], language))
    return 1 + extra


def morae(reading: str) -> int:
    """Morae in a katakana reading: every kana is one, a small ャ/ュ/ョ/ァ... joins the one before it; the long-vowel
    mark ー, the moraic ン and the geminate ッ count as one each."""
    katakana = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in reading)
    return sum(1 for c in katakana if ("\u30a1" <= c <= "\u30fa" or c == "ー") and c not in _SMALL_KANA)


def unit_counts(words: Sequence[Word], language: str | None) -> list[int] | None:
    """The pace units (syllables, or morae for Japanese) of each word; None for a language without a counter."""
    lex = lexicon(language)
    code = lex.language if lex is not None else (language or "").split("-")[0].lower()
    if code == "ja":
        return _japanese_morae(words)
    if code == "zh":
        return [_chinese_syllables(w.text) for w in words]
    counts = [word_syllables(w.text, code) for w in words]
    return None if any(c is None for c in counts) else counts


def _chinese_syllables(text: str) -> int:
    """One syllable per Han character and per digit; a Latin-script word inside (a name, "OK") by the English
    patterns."""
    latin = sum(word_syllables(run, "en") or 0 for run in _LATIN_RUN.findall(_HAN.sub(" ", text)))
    return len(_HAN.findall(text)) + len(_DIGIT.findall(text)) + latin


def _japanese_morae(words: Sequence[Word]) -> list[int]:
    """Morae of the whole text's reading (readings depend on context), each token's morae given to the word its
    first character is in."""
    texts = [w.text.strip() for w in words]
    owner = [i for i, t in enumerate(texts) for _ in t]
    counts = [0] * len(words)
    for m in morphemes("".join(texts), "ja"):
        if m.reading and owner:
            counts[owner[min(m.start, len(owner) - 1)]] += morae(m.reading)
    return counts
