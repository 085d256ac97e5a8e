"""Pace, pauses and fillers from a Transcript (words with times) and, when available, the VoiceAnalysis.

Definitions (quoted by docs/results.md, "Metric definitions"):
- speaking time: from the first word's start to the last word's end, minus every pause >= 1 s.
- pace_wpm: words per minute of speaking time, where the writing marks words (null for Japanese and Chinese).
- syllables_per_s: the language's pace unit (syllables; morae for Japanese) per second of speaking time, counted
  by models/speech/syllables.py; pace_relative: the pace over the centre of the language's comfortable range
  (English: pace_wpm / 150, the unit English is judged in; other languages: syllables_per_s over the comfortable
  rate of models/speech/lexicons, scaled from English by Pellegrino et al.'s 2011 syllable rates).
- articulation_rate_wpm: words per minute of the same span minus every silent gap >= 0.25 s (Goldman-Eisler's
  classic pause threshold), i.e. the speed while actually talking.
- pause: a gap >= 1 s between consecutive words that the energy track hears as silent too; long when >= 2 s.
  Silence before the first word or after the last one is not a pause (the speaker has not started / has finished).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from softskills.models.i18n.text import Text, say, series
from softskills.models.intervals import gap_s, true_runs
from softskills.models.speech.lexicons import ENGLISH_COMFORTABLE_WPM, LEXICONS, SUPPORTED_LANGUAGES, Lexicon, lexicon
from softskills.models.speech.syllables import unit_counts
from softskills.models.speech.tokens import CLAUSE_END, QUESTION_END, ends_clause, ends_sentence, text_tokens
from softskills.models.speech.transcribe import Transcript, Word
from softskills.models.speech.voice import VoiceAnalysis, semitone_sd

PAUSE_MIN_S = 1.0
LONG_PAUSE_MIN_S = 2.0
ARTICULATION_GAP_S = 0.25
# Whisper word ends drift into the following silence (by up to ~2 s on the accuracy set) and first words start
# early; the energy track moves pause and span edges, but every word keeps at least this much of its own time.
MIN_WORD_S = 0.1
MIN_ROLLING_WINDOW_S = 1.0
PACE_UNIT_PLURAL = {
    # Translators: the units of pace, as in "4.5 syllables per second" (morae: Japanese).
    "syllable": say("syllables"),
    # Translators: Japanese's unit of pace, as in "7.2 morae per second".
    "mora": say("morae"),
}

# English filler words. Always fillers, in any context, whatever the spelling length ("ummm", "uhhh", "hmmm"); the
# other languages' fillers are in models/speech/lexicons, read by `lexicon_fillers`.
_ALWAYS_FILLER = LEXICONS["en"].hesitation
# Discourse markers that are only fillers when set off from the sentence (comma, sentence start, or a pause).
SET_OFF_PAUSE_S = 0.3
HEDGE_WORDS = frozenset({"basically", "actually", "literally"})
# "like" right after these (no comma between) is a verb, a comparison or a quotative, not a filler
# ("I like it", "looks like rain", "she was like ...").
LIKE_GOVERNORS = frozenset(
    {
        "i",
        "you",
        "we",
        "they",
        "would",
        "really",
        "do",
        "does",
        "did",
        "don't",
        "didn't",
        "doesn't",
        "to",
        "look",
        "looks",
        "looked",
        "looking",
        "feel",
        "feels",
        "felt",
        "feeling",
        "seem",
        "seems",
        "seemed",
        "sound",
        "sounds",
        "sounded",
        "just",
        "much",
        "more",
        "most",
        "something",
        "anything",
        "nothing",
        "things",
        "stuff",
        "be",
        "is",
        "was",
        "were",
        "are",
        "'d",
        "i'd",
        "we'd",
        "you'd",
        "they'd",
        "she",
        "he",
    }
)
# "you know" / "I mean" after these are the literal verbs ("do you know", "what I mean").
LITERAL_KNOW_MEAN = frozenset({"do", "did", "don't", "didn't", "if", "what", "whether", "that", "as", "you"})

# Acoustic filled pauses: a voiced, steady-pitch stretch that no word covers ("uhhh" that Whisper dropped).
# Hesitation vowels last ~200-700 ms with flat F0 (Shriberg 2001, "To 'errrr' is human").
FILLED_PAUSE_MIN_S = 0.25
FILLED_PAUSE_MAX_SD_SEMITONES = 1.0
FILLED_PAUSE_MAX_WORD_OVERLAP = 0.2  # fraction of the stretch that aligned words may cover
FILLED_PAUSE_LABEL = "(filled pause)"
# A flat voiced stretch this close to a transcribed filler is that filler's own sound, left uncovered because
# Whisper times fillers late (0.1-0.9 s on the accuracy sets); counting it again would double the filler.
FILLED_PAUSE_NEAR_LEXICAL_S = 0.9
# Whisper writes one drawn-out "uhhhh" as "uh, uh, uh, uh" with word starts a few 10 ms apart; a hesitation
# sound lasts at least ~200 ms, so repeats starting closer than this are one filler.
MIN_FILLER_SPACING_S = 0.2


@dataclass(frozen=True)
class Filler:
    word: str
    start_s: float
    end_s: float
    method: str  # "lexical" | "acoustic"


@dataclass(frozen=True)
class Pause:
    start_s: float
    end_s: float
    duration_s: float
    is_long: bool


@dataclass(frozen=True)
class PaceWindow:
    start_s: float
    end_s: float
    words: int
    wpm: float | None  # None where words are not the unit of pace (Japanese, Chinese)
    syllables: int | None = None  # in the language's pace unit; None without a counter for the language
    syllables_per_s: float | None = None


@dataclass(frozen=True)
class SpeechMetrics:
    word_count: int
    speaking_time_s: float | None
    pace_wpm: float | None
    articulation_rate_wpm: float | None
    rolling_pace: tuple[PaceWindow, ...]
    fillers: tuple[Filler, ...]
    filler_count: int | None  # None: no filler lexicon for the language, so filler words cannot be counted
    filler_rate_per_min: float | None
    top_fillers: tuple[tuple[str, int], ...]
    pauses: tuple[Pause, ...]
    long_pause_count: int
    mean_pause_s: float | None
    language: str = "en"  # ISO 639-1 code of the spoken language (the transcript's)
    pace_unit: str = "syllable"  # what syllables_per_s counts: "syllable" or "mora"
    syllable_count: int | None = None
    syllables_per_s: float | None = None
    pace_relative: float | None = None  # 1.0 = the centre of the language's comfortable pace
    reasons: dict[str, Text] = field(default_factory=dict)  # why a None field above was not measured


def analyze_speech(
    transcript: Transcript, voice: VoiceAnalysis | None, duration_s: float, window_s: float = 5.0
) -> SpeechMetrics:
    words = sorted(transcript.words, key=lambda w: w.start_s)
    language = (transcript.language or "en").lower()
    if not words or words[-1].end_s <= words[0].start_s:
        return SpeechMetrics(len(words), None, None, None, (), (), 0, None, (), (), 0, None, language=language)
    timed = _audible_words(words, voice)
    gaps = _gaps(timed, voice)
    pauses = tuple(Pause(s, e, e - s, e - s >= LONG_PAUSE_MIN_S) for s, e in gaps if e - s >= PAUSE_MIN_S)

    span_start_s, span_end_s = _speech_span(timed, voice)
    span_s = span_end_s - span_start_s
    speaking_s = span_s - sum(p.duration_s for p in pauses)
    articulating_s = span_s - sum(e - s for s, e in gaps if e - s >= ARTICULATION_GAP_S)
    pace = 60.0 * len(words) / speaking_s if speaking_s > 0 else None
    articulation = 60.0 * len(words) / articulating_s if articulating_s > 0 else None
    lex, reasons = lexicon(language), {}
    if lex is not None and not lex.words_are_units:
        pace = articulation = None
        reasons["pace_wpm"] = reasons["articulation_rate_wpm"] = say(
            "Words are not a unit of pace in {language}: the writing has no spaces between words, so pace is counted "
            "in {unit} per second.",
            language=lex.name,
            unit=PACE_UNIT_PLURAL[lex.pace_unit],
        )
    units = unit_counts(words, language)
    syllables = sum(units) if units is not None else None
    syllable_rate = syllables / speaking_s if syllables is not None and speaking_s > 0 else None
    if units is None:
        reasons["syllables_per_s"] = say("No syllable counter for language '{language}'.", language=language)
    relative = None
    if lex is None:
        reasons["pace_relative"] = say(
            "No pace norm for language '{language}' (languages with one: {languages}); "
            "English norms are never applied to it.",
            language=language,
            languages=series(SUPPORTED_LANGUAGES),
        )
    elif language == "en":
        relative = pace / ENGLISH_COMFORTABLE_WPM if pace is not None else None
    elif syllable_rate is not None:
        relative = syllable_rate / lex.comfortable_rate

    fillers = list(lexical_fillers(words, language))
    if voice is not None:
        fillers.extend(
            a
            for a in acoustic_fillers(words, voice)
            if not any(gap_s(a.start_s, a.end_s, f.start_s, f.end_s) <= FILLED_PAUSE_NEAR_LEXICAL_S for f in fillers)
        )
    fillers.sort(key=lambda f: f.start_s)
    counts = Counter(f.word for f in fillers)
    filler_count = len(fillers)
    filler_rate = 60.0 * len(fillers) / speaking_s if speaking_s > 0 else None
    if lex is None:  # hesitation sounds are found, filler words are not: a count would read as "no fillers"
        filler_count = filler_rate = None
        reasons["filler_count"] = reasons["filler_rate_per_min"] = say(
            "No filler lexicon for language '{language}' (languages with one: {languages}); English norms are never "
            "applied to it. Only hesitation sounds that no word covers are listed.",
            language=language,
            languages=series(SUPPORTED_LANGUAGES),
        )

    return SpeechMetrics(
        word_count=len(words),
        speaking_time_s=speaking_s if speaking_s > 0 else None,
        pace_wpm=pace,
        articulation_rate_wpm=articulation,
        rolling_pace=rolling_pace(
            words, max(duration_s, words[-1].end_s), window_s, units, words_are_units=lex is None or lex.words_are_units
        ),
        fillers=tuple(fillers),
        filler_count=filler_count,
        filler_rate_per_min=filler_rate,
        top_fillers=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        pauses=pauses,
        long_pause_count=sum(p.is_long for p in pauses),
        mean_pause_s=float(np.mean([p.duration_s for p in pauses])) if pauses else None,
        language=language,
        pace_unit=lex.pace_unit if lex is not None else "syllable",
        syllable_count=syllables,
        syllables_per_s=syllable_rate,
        pace_relative=relative,
        reasons=reasons,
    )


def _audible_words(words: list[Word], voice: VoiceAnalysis | None) -> list[Word]:
    """The words that overlap the energy track's speech, for timing. A word lying wholly in silence is a
    misaligned or hallucinated one (Whisper puts a zero-length "everyone." in the middle of a 2 s pause);
    it still counts as a word, but must not split a pause in two. All words when there is no energy track."""
    if voice is None or not voice.speech_segments:
        return words
    segs = np.array(voice.speech_segments)
    kept = [w for w in words if np.any((segs[:, 0] < w.end_s) & (segs[:, 1] > w.start_s))]
    return kept or words


def _speech_span(words: list[Word], voice: VoiceAnalysis | None) -> tuple[float, float]:
    """First word's start to last word's end, moved in to where the energy track's speech starts and ends
    (Whisper starts the first word early and stretches the last one into the trailing silence)."""
    start_s, end_s = words[0].start_s, words[-1].end_s
    if voice is None or not voice.speech_segments:
        return start_s, end_s
    segs = voice.speech_segments
    first = next((s for s, e in segs if e > start_s), None)
    last = next((e for s, e in reversed(segs) if s < end_s), None)
    if first is not None:
        start_s = float(np.clip(first, start_s, words[0].end_s - MIN_WORD_S))
    if last is not None:
        end_s = float(np.clip(last, words[-1].start_s + MIN_WORD_S, end_s))
    return start_s, max(end_s, start_s)


def _gaps(words: list[Word], voice: VoiceAnalysis | None) -> list[tuple[float, float]]:
    """The silent gap between each pair of consecutive words. Word boundaries from speech-to-text drift
    (Whisper stretches word ends over silence), so when the energy track has a silence at a boundary, that
    silence's edges are used instead; each neighbouring word keeps at least MIN_WORD_S of its own time.
    A gap that no silence is nearest to keeps only its part the energy track hears as silent: a mis-timed
    word (Whisper gives a drawn-out "umm" zero length) leaves a gap between word times that is full of voice,
    and voice is not a pause. Without an energy track that separates speech from silence (fewer than two
    segments, e.g. constant noise), the word times alone decide."""
    gaps = [(a.end_s, max(a.end_s, b.start_s)) for a, b in zip(words, words[1:])]
    if voice is None or len(voice.speech_segments) < 2 or not gaps:
        return gaps
    segs = voice.speech_segments
    silences = list(zip((e for _, e in segs[:-1]), (s for s, _ in segs[1:])))
    centres = np.array([(s + e) / 2 for s, e in gaps])
    from_silence: set[int] = set()
    for sil_start, sil_end in silences:
        j = int(np.argmin(np.abs(centres - (sil_start + sil_end) / 2)))
        prev, nxt = words[j], words[j + 1]
        start = float(np.clip(sil_start, min(prev.start_s + MIN_WORD_S, prev.end_s), nxt.start_s))
        end = float(np.clip(sil_end, prev.end_s, max(nxt.end_s - MIN_WORD_S, nxt.start_s)))
        if end - start > 0:
            gaps[j] = (start, end)
            from_silence.add(j)
    edges = [(-np.inf, segs[0][0]), *silences, (segs[-1][1], np.inf)]
    for j, (start, end) in enumerate(gaps):
        if j not in from_silence:
            gaps[j] = max(((max(start, s), min(end, e)) for s, e in edges), key=lambda g: g[1] - g[0])
            if gaps[j][1] <= gaps[j][0]:
                gaps[j] = (start, start)
    return gaps


def rolling_pace(
    words: list[Word], duration_s: float, window_s: float, units: list[int] | None = None, words_are_units: bool = True
) -> tuple[PaceWindow, ...]:
    """Words per minute (and pace units per second, given each word's `units`) in consecutive windows over the
    whole clip (a word counts where its midpoint falls); a trailing window shorter than MIN_ROLLING_WINDOW_S is
    dropped, as its rate would be noise."""
    if window_s <= 0:
        return ()
    mids = np.array([(w.start_s + w.end_s) / 2 for w in words])
    counts = np.array(units if units is not None else [0] * len(words))
    out = []
    start = 0.0
    while start < duration_s:
        end = min(start + window_s, duration_s)
        if end - start >= MIN_ROLLING_WINDOW_S:
            inside = (mids >= start) & (mids < end)
            n = int(np.sum(inside))
            syllables = int(counts[inside].sum()) if units is not None else None
            out.append(
                PaceWindow(
                    start,
                    end,
                    n,
                    60.0 * n / (end - start) if words_are_units else None,
                    syllables,
                    syllables / (end - start) if syllables is not None else None,
                )
            )
        start += window_s
    return tuple(out)


def lexical_fillers(words: list[Word], language: str = "en") -> list[Filler]:
    """The filler words of the transcript, by the spoken language's rules: English's below, every other
    language's from its lexicon (`lexicon_fillers`); none for a language without a lexicon, so no language's
    fillers are ever counted in another's speech."""
    if language == "en":
        return english_fillers(words)
    lex = lexicon(language)
    return lexicon_fillers(text_tokens(words, language), lex) if lex is not None else []


def english_fillers(words: list[Word]) -> list[Filler]:
    """Rule-based filler words. Each rule is spelled out so tests can pin it down."""
    out: list[Filler] = []
    norm = [w.normalized for w in words]
    n = len(words)
    i = 0
    while i < n:
        w, t = words[i], norm[i]
        prev = norm[i - 1] if i > 0 else None
        sentence_start = i == 0 or ends_sentence(words[i - 1].text)
        pause_before = i == 0 or w.start_s - words[i - 1].end_s >= SET_OFF_PAUSE_S
        pause_after = i == n - 1 or words[i + 1].start_s - w.end_s >= SET_OFF_PAUSE_S
        comma_before = i > 0 and ends_clause(words[i - 1].text)
        comma_after = ends_clause(w.text)
        nxt = norm[i + 1] if i + 1 < n else None
        if _ALWAYS_FILLER.match(t):
            if out and out[-1].word == t and w.start_s - out[-1].start_s < MIN_FILLER_SPACING_S:
                out[-1] = replace(out[-1], end_s=max(out[-1].end_s, w.end_s))  # one stretched sound
            else:
                out.append(Filler(t, w.start_s, w.end_s, "lexical"))
        elif t == "like":
            # Set off by a comma or a pause; a sentence-initial "Like" without a comma is a conjunction.
            set_off = comma_before or comma_after or pause_before or pause_after
            governed = prev in LIKE_GOVERNORS and not comma_before  # "was like" is quotative, "was, like," is not
            if not governed and set_off and (comma_after or not sentence_start):
                out.append(Filler(t, w.start_s, w.end_s, "lexical"))
        elif t == "so":
            if sentence_start and (comma_after or pause_after):
                out.append(Filler(t, w.start_s, w.end_s, "lexical"))
        elif t in HEDGE_WORDS:
            if comma_after or (comma_before or sentence_start) and pause_after:
                out.append(Filler(t, w.start_s, w.end_s, "lexical"))
        elif nxt is not None and (t, nxt) in {("you", "know"), ("i", "mean")}:
            second = words[i + 1]
            after_set_off = (
                ends_clause(second.text) or i + 2 >= n or words[i + 2].start_s - second.end_s >= SET_OFF_PAUSE_S
            )
            if prev not in LITERAL_KNOW_MEAN and (after_set_off or comma_before or sentence_start and t == "i"):
                out.append(Filler(f"{t} {nxt}", w.start_s, second.end_s, "lexical"))
                i += 2
                continue
        i += 1
    return out


def set_off(words: list[Word], first: int, last: int) -> bool:
    """Words first..last stand apart from the sentence on both sides: before them a sentence start, a comma (or
    any clause punctuation) or a pause of SET_OFF_PAUSE_S; after them clause punctuation other than a question
    mark, a pause, or the end of the talk ("este, ..." but not "este libro"; "..., quoi." but not "Quoi ?")."""
    before = (
        first == 0
        or ends_clause(words[first - 1].text)
        or words[first].start_s - words[first - 1].end_s >= SET_OFF_PAUSE_S
    )
    text = words[last].text.rstrip()
    after = (
        last == len(words) - 1
        or (text.endswith(tuple(CLAUSE_END)) and not text.endswith(tuple(QUESTION_END)))
        or words[last + 1].start_s - words[last].end_s >= SET_OFF_PAUSE_S
    )
    return before and after


def lexicon_fillers(words: list[Word], lex: Lexicon) -> list[Filler]:
    """Fillers by a language's lexicon: hesitations anywhere (a drawn-out one written as repeats is one), particles
    anywhere, markers only when `set_off`; the longest phrase at each position first."""
    out: list[Filler] = []
    norm = [w.normalized for w in words]
    i = 0
    while i < len(words):
        w, t = words[i], norm[i]
        if t and lex.hesitation.match(t):
            if out and out[-1].word == t and w.start_s - out[-1].start_s < MIN_FILLER_SPACING_S:
                out[-1] = replace(out[-1], end_s=max(out[-1].end_s, w.end_s))
            else:
                out.append(Filler(t, w.start_s, w.end_s, "lexical"))
            i += 1
            continue
        for n in range(min(lex.longest_phrase, len(words) - i), 0, -1):
            phrase = tuple(norm[i : i + n])
            if phrase in lex.particles or phrase in lex.markers and set_off(words, i, i + n - 1):
                joiner = " " if lex.spaced else ""
                out.append(Filler(joiner.join(phrase), w.start_s, words[i + n - 1].end_s, "lexical"))
                i += n
                break
        else:
            i += 1
    return out


def acoustic_fillers(words: list[Word], voice: VoiceAnalysis) -> list[Filler]:
    """Voiced stretches of >= FILLED_PAUSE_MIN_S with nearly flat pitch that aligned words do not cover:
    the hesitation vowels ("uhhh") that speech-to-text leaves out."""
    if not words or voice.f0_hz.size == 0:
        return []
    hop = voice.hop_s
    spans = np.array([(w.start_s, w.end_s) for w in words])
    out = []
    for s, e in true_runs(voice.voiced):
        start_s, end_s = s * hop, e * hop
        if end_s - start_s < FILLED_PAUSE_MIN_S:
            continue
        sd = semitone_sd(voice.f0_hz[s:e])
        if sd is None or sd > FILLED_PAUSE_MAX_SD_SEMITONES:
            continue
        covered = np.clip(np.minimum(spans[:, 1], end_s) - np.maximum(spans[:, 0], start_s), 0, None).sum()
        if covered <= FILLED_PAUSE_MAX_WORD_OVERLAP * (end_s - start_s):
            out.append(Filler(FILLED_PAUSE_LABEL, round(start_s, 3), round(end_s, 3), "acoustic"))
    return out
