"""Language coaching from the timed words: hedges and weak words, repeated phrases, vocabulary diversity and the
questions asked. Every finding carries its time, so the timeline and the feedback can point at it.

Rules and sources:
- Hedges soften a claim and read as low confidence when frequent (Lakoff 1973, "Hedges"; Hosman 1989 on
  powerless speech: hedges and hesitations lower perceived competence and authority). Counted: the words and
  phrases in HEDGE_PHRASES; "kind of"/"sort of" only as hedges ("it is kind of slow"), not as a type ("what kind
  of car"); "just" only where it softens ("I just think"), not in "just now", "just as", "just in time".
  Filler words (um, uh, like, you know) are counted separately (models/speech/metrics.py).
- Repeated phrases: word sequences of 2-4 words, not made only of function words, said at least
  MIN_PHRASE_REPEATS times ("let's say" x12); a longer phrase hides the shorter ones inside it.
- Vocabulary diversity: the moving-average type-token ratio over MATTR_WINDOW words (Covington & McFall 2010),
  which, unlike the plain type-token ratio, does not fall with the length of the talk; None below one window.
- Questions: sentences that end with "?" (speech-to-text punctuates questions from intonation and wording).

Other languages: the same rules over the language's tokens (models/speech/tokens.py: the words, or a morphological
analyser's tokens for Japanese and Chinese, where counts are per token), with the hedges and function words of its
lexicon (models/speech/lexicons; no context rules like English's "kind of"). A language without a lexicon has no
hedge count (None, with the reason) rather than English's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from softskills.models.i18n.text import Text, say, series
from softskills.models.speech.lexicons import LEXICONS, SUPPORTED_LANGUAGES, Lexicon, lexicon
from softskills.models.speech.tokens import QUESTION_END, text_tokens
from softskills.models.speech.transcribe import Word, normalize_word

HEDGE_PHRASES: tuple[tuple[str, ...], ...] = tuple(LEXICONS["en"].hedges)
# "kind of"/"sort of" after these names a type ("what kind of car"), not a hedge.
KIND_DETERMINERS = frozenset(
    {
        "a",
        "an",
        "the",
        "what",
        "which",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "every",
        "each",
        "one",
        "same",
        "different",
        "other",
        "another",
        "all",
        "no",
        "whatever",
        "right",
        "wrong",
        "new",
    }
)
# "just" before these is an adverb of time or degree ("just now", "just as good"), not a softener.
JUST_LITERAL_NEXT = frozenset({"now", "as", "in", "then", "before", "after", "enough", "about", "right"})
MIN_PHRASE_REPEATS = 3
PHRASE_LENGTHS = (4, 3, 2)
FUNCTION_WORDS = LEXICONS["en"].function_words
MATTR_WINDOW = 50
SENTENCE_STOPS = (".", "?", "!", "。", "？", "！")  # a sentence ends at a word ending in one (not at an ellipsis)


@dataclass(frozen=True)
class TimedPhrase:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class RepeatedPhrase:
    text: str
    count: int
    times_s: tuple[float, ...]  # start of each occurrence


@dataclass(frozen=True)
class LanguageMetrics:
    word_count: int  # the tokens counted (words; for Japanese and Chinese the analyser's tokens)
    hedges: tuple[TimedPhrase, ...]
    hedge_rate_per_100_words: float | None
    repeated_phrases: tuple[RepeatedPhrase, ...]  # most repeated first
    vocabulary_diversity_mattr: float | None
    questions: tuple[TimedPhrase, ...]  # the question sentences
    language: str = "en"
    reasons: dict[str, Text] = field(default_factory=dict)  # why a None field above was not measured


def analyze_language(words: list[Word], language: str = "en") -> LanguageMetrics:
    lex = lexicon(language)
    words = text_tokens(words, language)
    tokens = [normalize_word(w.text) for w in words]
    reasons = {}
    if lex is None:
        hedges = []
        reasons["hedge_rate_per_100_words"] = say(
            "No hedge lexicon for language '{language}' (languages with one: {languages}).",
            language=language,
            languages=series(SUPPORTED_LANGUAGES),
        )
    else:
        hedges = hedge_phrases(words, tokens, lex)
    joiner = " " if lex is None or lex.spaced else ""
    return LanguageMetrics(
        word_count=len(words),
        hedges=tuple(hedges),
        hedge_rate_per_100_words=100.0 * len(hedges) / len(words) if words and lex is not None else None,
        repeated_phrases=tuple(repeated_phrases(words, tokens, lex.function_words if lex else frozenset(), joiner)),
        vocabulary_diversity_mattr=mattr([t for t in tokens if t]),
        questions=tuple(questions(words, joiner)),
        language=language,
        reasons=reasons,
    )


def hedge_phrases(words: list[Word], tokens: list[str], lex: Lexicon = LEXICONS["en"]) -> list[TimedPhrase]:
    out = []
    joiner = " " if lex.spaced else ""
    i = 0
    while i < len(tokens):
        match = next((p for p in lex.hedges if tuple(tokens[i : i + len(p)]) == p), None)
        if match is not None and (lex.language != "en" or _is_english_hedge(match, tokens, i)):
            end = i + len(match)
            out.append(TimedPhrase(joiner.join(match), words[i].start_s, words[end - 1].end_s))
            i = end
        else:
            i += 1
    return out


def _is_english_hedge(phrase: tuple[str, ...], tokens: list[str], i: int) -> bool:
    if phrase in (("kind", "of"), ("sort", "of")):
        return i == 0 or tokens[i - 1] not in KIND_DETERMINERS
    if phrase == ("just",):
        return i + 1 >= len(tokens) or tokens[i + 1] not in JUST_LITERAL_NEXT
    return True


def repeated_phrases(
    words: list[Word], tokens: list[str], function_words: frozenset[str] = FUNCTION_WORDS, joiner: str = " "
) -> list[RepeatedPhrase]:
    """Phrases said at least MIN_PHRASE_REPEATS times inside sentences; each word belongs to at most one counted
    phrase (longest first, then the most repeated, then the earliest), so "let's say" inside a repeated "so let's
    say" is not counted twice."""
    sentence = [0] * len(tokens)
    for i in range(1, len(tokens)):
        sentence[i] = sentence[i - 1] + words[i - 1].text.rstrip().endswith(SENTENCE_STOPS)
    used = [False] * len(tokens)
    found: list[RepeatedPhrase] = []
    for n in PHRASE_LENGTHS:
        starts: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i in range(len(tokens) - n + 1):
            gram = tuple(tokens[i : i + n])
            if all(gram) and sentence[i] == sentence[i + n - 1] and not all(t in function_words for t in gram):
                starts[gram].append(i)
        for gram, positions in sorted(starts.items(), key=lambda item: (-len(item[1]), item[1][0])):
            kept: list[int] = []
            for i in positions:
                if not any(used[i : i + n]) and (not kept or kept[-1] + n <= i):
                    kept.append(i)
            if len(kept) >= MIN_PHRASE_REPEATS:
                for i in kept:
                    used[i : i + n] = [True] * n
                found.append(RepeatedPhrase(joiner.join(gram), len(kept), tuple(words[i].start_s for i in kept)))
    return sorted(found, key=lambda p: (-p.count, p.times_s[0]))


def mattr(tokens: list[str], window: int = MATTR_WINDOW) -> float | None:
    """Mean type-token ratio over every window of `window` consecutive words (one pass, counts updated as the
    window slides)."""
    if len(tokens) < window:
        return None
    counts: dict[str, int] = defaultdict(int)
    for t in tokens[:window]:
        counts[t] += 1
    total = len(counts)
    for i in range(window, len(tokens)):
        gone, new = tokens[i - window], tokens[i]
        counts[gone] -= 1
        if not counts[gone]:
            del counts[gone]
        counts[new] += 1
        total += len(counts)
    return total / ((len(tokens) - window + 1) * window)


def questions(words: list[Word], joiner: str = " ") -> list[TimedPhrase]:
    out, start = [], 0
    for i, w in enumerate(words):
        if w.text.rstrip().endswith(SENTENCE_STOPS):
            if w.text.rstrip().endswith(tuple(QUESTION_END)):
                out.append(
                    TimedPhrase(joiner.join(x.text for x in words[start : i + 1]), words[start].start_s, w.end_s)
                )
            start = i + 1
    return out
