"""The text side of the languages table: filler precision/recall and pace error per language, and how close the
syllable counter is to true syllable counts.

- Syllables: the counter (models/speech/syllables.py) against hand counts of 25 words per language, next to plain
  pyphen hyphenation (what the hiatus rules add).
- espeak-ng clips, one per language, assembled like the English labelled set (benchmarks/labelled_set.py): phrases
  and fillers synthesised separately and joined by silences of known length, so every filler's time and the
  speaking time are constructed truth. Each script also says the filler's look-alike as an ordinary word ("este
  proyecto", "um acht Uhr", "あの ひと", "这个项目"), which must not be counted. Truth pace: the script's syllables
  (Japanese: morae of its kana; Chinese: its Han characters; other languages: the counter on the script, whose own
  error the word lists measure) over the constructed speaking time.
- Real recordings (benchmarks/real/languages/, read speech with reference transcripts that mark no fillers):
  every filler found is a false one; reference pace is the reference transcript's syllables (the counter, with
  readings for Japanese) over the speaking time Silero VAD finds (faster-whisper's bundled model, independent of
  the service's energy gate; pauses of 1 s or more removed, as in the metrics). The waveform's silence rule that
  times the espeak-ng clips fails on these (their background noise never falls 35 dB under the peak). Both the
  unit-count error (recognition plus counter, against the reference text) and the pace error are reported.

`python -m benchmarks.languages_text` runs the models in process (Whisper base in the clip's language with the
language's disfluency prompt, the voice analysis, the speech metrics) and prints the tables. The accuracy
benchmark, which measures through the service, builds the truths (`espeak_truths`, `real_truths`), scores each
answer with `score_body` and prints `markdown(rows)`.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.labelled_set import ClipSpec, Gap, Say, Um, _assemble
from benchmarks.real_set import SOURCES
from benchmarks.speakers_set import read_audio
from softskills.models.speech.lexicons import lexicon
from softskills.models.speech.metrics import PACE_UNIT_PLURAL as PLURAL
from softskills.models.speech.syllables import morae, unit_counts, word_syllables
from softskills.models.speech.transcribe import Word
from testkit.videos import SAMPLE_RATE, script_words

LANGUAGES_DIR = SOURCES / "languages"
FILLER_MATCH_S = 0.5  # as the English accuracy set: a found filler within this of a true one is that one

# Hand counts of canonical syllables (Japanese and Chinese need none: morae and characters are counted exactly).
SYLLABLE_TRUTH = {
    "es": {
        "casa": 2,
        "abierto": 3,
        "aire": 2,
        "día": 2,
        "ciudad": 2,
        "recomienda": 4,
        "enfáticamente": 6,
        "viajeros": 3,
        "huevo": 2,
        "aéreo": 4,
        "país": 2,
        "poeta": 3,
        "leer": 2,
        "oído": 3,
        "murciélago": 4,
        "transporte": 3,
        "extraordinario": 5,
        "guitarra": 3,
        "cualquier": 2,
        "riesgo": 2,
        "área": 3,
        "empoderar": 4,
        "analíticos": 5,
        "perspectivas": 4,
        "concentró": 3,
    },
    "it": {
        "casa": 2,
        "ciao": 1,
        "perché": 2,
        "università": 5,
        "praticamente": 5,
        "cioè": 2,
        "paura": 3,
        "piede": 2,
        "buono": 2,
        "italiano": 4,
        "aereo": 4,
        "poesia": 4,
        "giorno": 2,
        "scuola": 2,
        "figlio": 2,
        "famiglia": 3,
        "gli": 1,
        "sbagliato": 3,
        "mario": 2,
        "allora": 3,
        "insomma": 3,
        "diciamo": 3,
        "mangiare": 3,
        "chiesa": 2,
        "quattro": 2,
    },
    "de": {
        "haus": 1,
        "unabhängigkeitserklärung": 8,
        "aussichten": 3,
        "gegenüberliegenden": 7,
        "dinosaurier": 5,
        "schatzkarte": 3,
        "ufer": 2,
        "mädchen": 2,
        "theater": 3,
        "eier": 2,
        "beobachten": 4,
        "zeitung": 2,
        "straße": 2,
        "heute": 2,
        "vermächtnis": 3,
        "tempelritter": 4,
        "gezeichnet": 3,
        "vielleicht": 2,
        "schmetterling": 3,
        "abend": 2,
        "idee": 3,
        "europa": 3,
        "gewachsen": 3,
        "verlassen": 3,
        "sollten": 2,
    },
    "fr": {
        "accident": 3,
        "montagneux": 3,
        "incendie": 3,
        "déclaration": 4,
        "pays": 2,
        "oiseau": 2,
        "beaucoup": 2,
        "aujourd'hui": 3,
        "maison": 2,
        "chocolat": 3,
        "ordinateur": 4,
        "téléphone": 3,
        "école": 2,
        "noël": 2,
        "naïf": 2,
        "ciel": 1,
        "piano": 2,
        "réaliser": 4,
        "obligations": 4,
        "responsabilité": 6,
        "capacités": 4,
        "malveillant": 3,
        "terrain": 2,
        "lieu": 1,
        "olympique": 3,
    },
    "pt": {
        "casa": 2,
        "informações": 4,
        "declaração": 4,
        "diretamente": 5,
        "vítima": 3,
        "construída": 4,
        "egípcios": 3,
        "pirâmide": 4,
        "saudade": 3,
        "coração": 3,
        "país": 2,
        "saída": 3,
        "muito": 2,
        "pão": 1,
        "cidade": 3,
        "estrutura": 4,
        "honrar": 2,
        "faraós": 3,
        "mortos": 2,
        "corrida": 3,
        "largada": 3,
        "controle": 3,
        "pensamentos": 4,
        "presente": 3,
        "envolvido": 4,
    },
    "en": {
        "beautiful": 3,
        "the": 1,
        "create": 2,
        "business": 2,
        "particularly": 5,
        "water": 2,
        "table": 2,
        "people": 2,
        "country": 2,
        "fellow": 2,
        "americans": 4,
        "important": 3,
        "idea": 3,
        "communication": 5,
        "talking": 2,
        "speech": 1,
        "errors": 2,
        "slightly": 2,
        "intensity": 4,
        "aligner": 3,
        "montreal": 3,
        "forced": 1,
        "something": 2,
        "everything": 3,
        "video": 3,
    },
}

# One clip per language: espeak-ng voice, rate (wpm setting), units. Japanese is written in kana (espeak-ng reads
# no kanji); spaces there only help espeak-ng phrase it.
CLIPS: tuple[tuple[str, ClipSpec], ...] = (
    (
        "es",
        ClipSpec(
            "es_fillers",
            "es",
            150,
            (
                Say("Buenos días a todos."),
                Um("eh"),
                Say("hoy les presento este proyecto."),
                Gap(1.2),
                Say("Trabajamos tres meses,"),
                Um("o sea"),
                Say("desde enero hasta marzo."),
                Um("este"),
                Say("y el resultado es bueno."),
            ),
        ),
    ),
    (
        "fr",
        ClipSpec(
            "fr_fillers",
            "fr",
            150,
            (
                Say("Bonjour à tous."),
                Um("euh"),
                Say("je vous présente notre projet."),
                Gap(1.2),
                Say("Nous avons travaillé trois mois,"),
                Um("ben"),
                Say("de janvier à mars."),
                Um("euh"),
                Say("et le résultat est bon."),
            ),
        ),
    ),
    (
        "de",
        ClipSpec(
            "de_fillers",
            "de",
            150,
            (
                Say("Guten Morgen zusammen."),
                Um("äh"),
                Say("wir treffen uns um acht Uhr."),
                Gap(1.2),
                Say("Wir haben drei Monate gearbeitet,"),
                Um("ähm"),
                Say("von Januar bis März."),
                Um("äh"),
                Say("und er sagt, das Ergebnis ist gut."),
            ),
        ),
    ),
    (
        "pt",
        ClipSpec(
            "pt_fillers",
            "pt-br",
            150,
            (
                Say("Bom dia a todos."),
                Um("ahn"),
                Say("hoje eu apresento o projeto."),
                Gap(1.2),
                Say("Trabalhamos três meses,"),
                Um("tipo"),
                Say("de janeiro a março."),
                Um("né"),
                Say("e o resultado é bom."),
            ),
        ),
    ),
    (
        "it",
        ClipSpec(
            "it_fillers",
            "it",
            150,
            (
                Say("Buongiorno a tutti."),
                Um("ehm"),
                Say("oggi vi presento il progetto."),
                Gap(1.2),
                Say("Abbiamo lavorato tre mesi,"),
                Um("cioè"),
                Say("da gennaio a marzo."),
                Um("ehm"),
                Say("e il risultato è buono."),
            ),
        ),
    ),
    (
        "ja",
        ClipSpec(
            "ja_fillers",
            "ja",
            150,
            (
                Say("みなさん、おはようございます。"),
                Um("えーと"),
                Say("きょうは あたらしい けいかくを はっぴょうします。"),
                Gap(1.2),
                Say("あの ひとが つくりました。"),
                Um("あのー"),
                Say("さんかげつ かかりました。"),
            ),
        ),
    ),
    (
        "zh",
        ClipSpec(
            "zh_fillers",
            "cmn",
            150,
            (
                Say("大家好。"),
                Um("嗯"),
                Say("今天我介绍这个项目。"),
                Gap(1.2),
                Say("我们工作了三个月，"),
                Um("那个"),
                Say("从一月到三月。"),
                Um("呃"),
                Say("结果很好。"),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class TextTruth:
    name: str
    language: str
    source: str  # "espeak-ng" | "real"
    audio: np.ndarray
    fillers: tuple[tuple[float, float], ...]  # true filler spans; real read speech: none
    syllables: int  # in the language's pace unit
    speaking_time_s: float


@dataclass(frozen=True)
class TextRow:
    """One clip's truth and what was measured on it."""

    name: str
    language: str
    source: str
    true_fillers: int
    found_fillers: int
    matched_fillers: int
    found_words: tuple[str, ...]
    true_units: int  # syllables (morae) of the script or reference
    measured_units: int | None  # of the transcript
    true_rate: float  # per second of speaking time
    measured_rate: float | None
    pace_relative: float | None

    @property
    def pace_error(self) -> float | None:
        return None if not self.measured_rate else abs(self.measured_rate - self.true_rate) / self.true_rate

    @property
    def unit_error(self) -> float | None:
        return None if not self.measured_units else abs(self.measured_units - self.true_units) / self.true_units


def script_units(text: str, language: str) -> int:
    """The pace units of a text: morae of Japanese kana (exact; a text with kanji through its reading), Han
    characters of Chinese, the counter elsewhere."""
    if language == "ja" and all("\u3040" <= c <= "\u30ff" or not c.isalnum() for c in text):
        return morae(text)
    words = [Word(w, 0.0, 0.0, 1.0) for w in (script_words(text) if lexicon(language).spaced else [text])]
    return sum(unit_counts(words, language) or [])


def vad_speaking_time(audio: np.ndarray) -> float:
    """First to last speech by Silero VAD (no padding around its segments), minus every gap of 1 s or more (the
    metrics' speaking time)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    spans = [
        (s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE)
        for s in get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=250, speech_pad_ms=0))
    ]
    if not spans:
        return 0.0
    gaps = sum(b[0] - a[1] for a, b in zip(spans, spans[1:]) if b[0] - a[1] >= 1.0)
    return spans[-1][1] - spans[0][0] - gaps


def espeak_truths() -> list[TextTruth]:
    out = []
    for language, spec in CLIPS:
        audio, truth = _assemble(spec)
        text = " ".join(u.text for u in spec.units if not isinstance(u, Gap))
        out.append(
            TextTruth(
                spec.name,
                language,
                "espeak-ng",
                audio,
                tuple((f.start_s, f.end_s) for f in truth.fillers),
                script_units(text, language),
                truth.speaking_time_s,
            )
        )
    return out


def real_truths() -> list[TextTruth]:
    with open(LANGUAGES_DIR / "transcripts.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for row in rows:
        language = row["language"].split()[0]
        audio = read_audio(LANGUAGES_DIR / row["file"])
        out.append(
            TextTruth(
                Path(row["file"]).stem,
                language,
                "real",
                audio,
                (),
                script_units(row["transcript"], language),
                vad_speaking_time(audio),
            )
        )
    return out


def match_count(truth: tuple[tuple[float, float], ...], found: list[tuple[float, float]]) -> int:
    """One-to-one matches within FILLER_MATCH_S, closest pairs first."""
    pairs = sorted(
        (max(0.0, max(a, c) - min(b, d)), i, j) for i, (a, b) in enumerate(truth) for j, (c, d) in enumerate(found)
    )
    used_t, used_f = set(), set()
    for gap, i, j in pairs:
        if gap <= FILLER_MATCH_S and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def measure_in_process(truths: list[TextTruth], prompted: bool = True) -> list[TextRow]:
    """Whisper base in each clip's language with its disfluency prompt (or none, to measure what the prompt
    adds), then the voice and speech metrics."""
    from softskills.models.speech.lexicons import disfluency_prompt
    from softskills.models.speech.metrics import analyze_speech
    from softskills.models.speech.transcribe import SpeechToText
    from softskills.models.speech.voice import analyze_voice

    models: dict[str, SpeechToText] = {}
    rows = []
    for t in truths:
        if t.language not in models:
            models[t.language] = SpeechToText(
                model="base",
                language=t.language,
                cpu_threads=2,
                initial_prompt=disfluency_prompt(t.language) if prompted else None,
            )
        transcript = models[t.language].transcribe(t.audio)
        m = analyze_speech(transcript, analyze_voice(t.audio), len(t.audio) / SAMPLE_RATE)
        rows.append(
            _row(
                t,
                [(f.word, f.start_s, f.end_s) for f in m.fillers],
                m.syllable_count,
                m.syllables_per_s,
                m.pace_relative,
            )
        )
    return rows


def score_body(truth: TextTruth, body: dict, offset_s: float = 0.0) -> TextRow:
    """A clip's row from the service's answer (an analyze-video or full-analysis body) for its audio placed
    `offset_s` into the video."""
    speech = body.get("video_analysis", body)["metrics"]["speech"] or {}
    found = [(f["word"], f["start_s"] - offset_s, f["end_s"] - offset_s) for f in speech.get("fillers", [])]
    return _row(truth, found, speech.get("syllable_count"), speech.get("syllables_per_s"), speech.get("pace_relative"))


def _row(
    t: TextTruth, found: list[tuple[str, float, float]], units: int | None, rate: float | None, relative: float | None
) -> TextRow:
    spans = [(start, end) for _, start, end in found]
    return TextRow(
        t.name,
        t.language,
        t.source,
        len(t.fillers),
        len(found),
        match_count(t.fillers, spans),
        tuple(word for word, _, _ in found),
        t.syllables,
        units,
        t.syllables / t.speaking_time_s,
        rate,
        relative,
    )


def syllable_accuracy() -> dict[str, dict[str, float]]:
    """Per language: exact counts and total over truth, for the counter and for plain pyphen hyphenation."""
    import pyphen

    from softskills.models.speech.syllables import PYPHEN_DICTIONARIES

    out = {}
    for language, words in SYLLABLE_TRUTH.items():
        plain = pyphen.Pyphen(lang=PYPHEN_DICTIONARIES[language], left=1, right=1)
        truth = list(words.values())
        ours = [word_syllables(w, language) for w in words]
        hyphen = [len(plain.inserted(w).split("-")) for w in words]
        out[language] = {
            "words": len(words),
            "exact": sum(a == b for a, b in zip(ours, truth)) / len(words),
            "total_ratio": sum(ours) / sum(truth),
            "pyphen_exact": sum(a == b for a, b in zip(hyphen, truth)) / len(words),
            "pyphen_total_ratio": sum(hyphen) / sum(truth),
        }
    return out


def summary(rows: list[TextRow]) -> dict[str, dict]:
    """Per language: filler precision and recall (espeak-ng clips; real read speech adds its false fillers to the
    precision), false fillers per minute on real speech, mean pace error per source, mean relative pace on real
    speech (1.0 = the centre of the language's comfortable range)."""
    out = {}
    for language in dict.fromkeys(r.language for r in rows):
        mine = [r for r in rows if r.language == language]
        espeak = [r for r in mine if r.source == "espeak-ng"]
        real = [r for r in mine if r.source == "real"]
        found = sum(r.found_fillers for r in mine)
        matched = sum(r.matched_fillers for r in mine)
        true = sum(r.true_fillers for r in espeak)

        def mean(values):
            values = [v for v in values if v is not None]
            return float(np.mean(values)) if values else None

        out[language] = {
            "filler_precision": matched / found if found else None,
            "filler_recall": matched / true if true else None,
            "real_false_fillers": sum(r.found_fillers for r in real),
            "espeak_pace_error": mean(r.pace_error for r in espeak),
            "real_unit_error": mean(r.unit_error for r in real),
            "real_pace_error": mean(r.pace_error for r in real),
            "real_pace_relative": mean(r.pace_relative for r in real),
            "unit": lexicon(language).pace_unit if lexicon(language) else "syllable",
        }
    return out


def _fmt(x, pct=False):
    if x is None:
        return "n/a"
    return f"{x:.0%}" if pct else f"{x:.2f}"


def markdown(rows: list[TextRow]) -> str:
    lines = [
        "| language | filler precision | filler recall | false fillers on real speech | pace error (espeak-ng) "
        "| unit-count error (real) | pace error (real, VAD-timed) | real pace / comfortable centre |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for language, s in summary(rows).items():
        lines.append(
            f"| {language} ({PLURAL[s['unit']]}) | {_fmt(s['filler_precision'], True)} | "
            f"{_fmt(s['filler_recall'], True)} | {s['real_false_fillers']} | "
            f"{_fmt(s['espeak_pace_error'], True)} | {_fmt(s['real_unit_error'], True)} | "
            f"{_fmt(s['real_pace_error'], True)} | "
            f"{_fmt(s['real_pace_relative'])} |"
        )
    return "\n".join(lines)


def syllable_markdown(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| language | words | counter exact | counter total / truth | pyphen exact | pyphen total / truth |",
        "|---|---|---|---|---|---|",
    ]
    for language, r in results.items():
        lines.append(
            f"| {language} | {r['words']} | {r['exact']:.0%} | {r['total_ratio']:.3f} | "
            f"{r['pyphen_exact']:.0%} | {r['pyphen_total_ratio']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(syllable_markdown(syllable_accuracy()), end="\n\n")
    truths = espeak_truths() + ([] if "--espeak-only" in args else real_truths())
    rows = measure_in_process(truths, prompted="--no-prompt" not in args)
    for r in rows:
        print(
            f"{r.name}: fillers {r.matched_fillers}/{r.true_fillers} true, {r.found_fillers} found "
            f"{list(r.found_words)}; units {r.measured_units} vs {r.true_units}; rate {r.measured_rate or 0:.2f} vs "
            f"{r.true_rate:.2f}, relative {_fmt(r.pace_relative)}"
        )
    print()
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
