"""Per-language lexicons for the text metrics: filler words, hedges, function words, the Whisper prompt that makes
the recogniser write fillers, and the language's unit and norm of pace. One registry keyed by ISO 639-1 code;
every entry names its source (lexicons/sources.py). The rules that read these lists are in models/speech/metrics.py
(fillers, pace) and models/speech/language.py (hedges, repeated phrases, vocabulary, questions).

How an entry is used:
- `hesitations`: a pattern for the language's filled pauses ("euh", "äh", "えーと"); a token that matches it is a
  filler wherever it stands, whatever its spelled length ("euhhh").
- `particles`: words or phrases that are fillers wherever they stand (Portuguese "né", Spanish "o sea").
- `markers`: discourse markers that are also ordinary words (Spanish "este" is "this", Chinese 那个 is "that"):
  fillers only when set off on both sides (see models/speech/metrics.py `set_off`).
- `hedges`: softeners counted by models/speech/language.py (English has its own context rules there).
Each token is compared in its normalised form (models/speech/transcribe.py `normalize_word`). A form that is a
filler in one language is looked up only in that language's lexicon, so German "um" (a preposition) or "er" ("he")
is never an English filler in German speech.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from softskills.models.speech.lexicons import sources

ENGLISH_SYLLABLES_PER_WORD = 1.3
"""Mean syllables per word of spoken English, counted as vowel nuclei in espeak-ng's IPA: 1.27 on the project's real
English reference transcripts (JFK, the MFA monologue, the Beckett fixture: 118 in 93 words), 1.34 on the interview
and pitch scripts of the labelled and validity sets (412 in 308 words). Converts the English pace curve's centre
(150 words per minute) into syllables per second: 3.25."""
ENGLISH_COMFORTABLE_WPM = 150.0  # the centre of the English pace curve (models/interpretation/data)


@dataclass(frozen=True)
class Lexicon:
    language: str  # ISO 639-1
    name: str  # in English, a catalog message (models/i18n)
    hesitations: str  # regular expression, matched against the whole normalised token
    hesitation_source: str
    particles: Mapping[tuple[str, ...], str]  # always fillers -> source
    markers: Mapping[tuple[str, ...], str]  # fillers only when set off -> source
    hedges: Mapping[tuple[str, ...], str]  # -> source
    function_words: frozenset[str]
    disfluency_prompt: str
    spaced: bool  # written with spaces between words; False: tokenized (models/speech/tokens.py)
    pace_unit: str  # "syllable" | "mora": what pace is counted in
    syllable_rate: float  # mean syllables per second of read speech in this language
    syllable_rate_source: str
    units_per_syllable: float = 1.0  # pace units per syllable (Japanese: morae per syllable)

    @cached_property
    def hesitation(self) -> re.Pattern:
        return re.compile(self.hesitations)

    @property
    def words_are_units(self) -> bool:
        """Words per minute means something only where the writing marks words (not Japanese or Chinese, where
        the recogniser's "words" are pieces of its own vocabulary)."""
        return self.spaced

    @property
    def comfortable_rate(self) -> float:
        """The centre of the comfortable pace in this language's unit per second: the English centre (150 words
        per minute) in syllables per second, scaled by this language's read syllable rate relative to English's
        (Pellegrino et al. 2011), so a language spoken with more, lighter syllables is allowed more of them."""
        english = ENGLISH_COMFORTABLE_WPM / 60.0 * ENGLISH_SYLLABLES_PER_WORD
        return english * self.syllable_rate / LEXICONS["en"].syllable_rate * self.units_per_syllable

    @cached_property
    def longest_phrase(self) -> int:
        return max((len(p) for p in (*self.particles, *self.markers, *self.hedges)), default=1)


def _registry() -> dict[str, Lexicon]:
    from softskills.models.speech.lexicons import east_asian, germanic, romance

    found = {lex.language: lex for module in (germanic, romance, east_asian) for lex in module.LEXICONS}
    return dict(sorted(found.items()))


LEXICONS: dict[str, Lexicon] = _registry()
SUPPORTED_LANGUAGES = tuple(LEXICONS)


def lexicon(language: str | None) -> Lexicon | None:
    """The lexicon of an ISO 639-1 code ("es", "pt-BR" -> "pt"), or None for a language without one."""
    return LEXICONS.get((language or "").lower().replace("_", "-").split("-")[0])


def disfluency_prompt(language: str | None) -> str | None:
    """The Whisper initial prompt that shows the recogniser this language's fillers, so it writes them instead of
    cleaning them away (Whisper's training transcripts mostly omit disfluencies); None without a lexicon."""
    found = lexicon(language)
    return found.disfluency_prompt if found is not None else None


def disfluency_prompts() -> dict[str, str]:
    """Every language's disfluency prompt, for the recogniser (models/speech/transcribe.py)."""
    return {code: found.disfluency_prompt for code, found in LEXICONS.items() if found.disfluency_prompt}


__all__ = [
    "LEXICONS",
    "Lexicon",
    "SUPPORTED_LANGUAGES",
    "disfluency_prompt",
    "disfluency_prompts",
    "lexicon",
    "sources",
]
