"""Accuracy benchmark: posts the labelled set (benchmarks/labelled_set.py) to a freshly started service and compares
what comes back with the truth. Run it with `make accuracy`; `--strict` exits 1 when a target is missed.

Measures, per clip and over the set:
- WER: word edit distance (substitutions + deletions + insertions) / reference words, after lowercasing and
  stripping punctuation; fillers are reference words too.
- filler precision / recall: a detection matches a true filler of the same class within FILLER_MATCH_S (the gap
  between the two intervals; 0 when they overlap), one-to-one. Classes: the hesitation sounds (um, uh, er, ah,
  hmm and acoustic filled pauses) are one class, as a transcriber may hear "um" for "uh"; every other filler is
  its own class ("like", "you know", ...).
- pace error: |measured - true| / true words per minute of speaking time.
- long-pause recall: true pauses >= 2 s found with both edges within PAUSE_EDGE_TOLERANCE_S; pause timing error:
  mean edge error over every true pause >= 1 s, against the reported pause that overlaps it most.
- face-visible error: |reported - true face-visible ratio|.
- look-away error: mean edge error of each face-out-of-frame interval against the reported look-away interval that
  overlaps it most; a missed interval is counted in the recall, not the error.

On the real-recordings set (benchmarks/real_set.py): the status of every answer; content WER (fillers and
bracketed tokens removed from both sides); filled pauses (um/uh/hm/er and acoustic filled pauses) counted per clip
against the verbatim reference (matched = the smaller count; the references carry no filler times); pace against
the forced-aligned word times; face-visible ratio against the labelled truth; and whether a clip nobody speaks in
got a speech score, pace or filler count.

On the languages set (benchmarks/languages_set.py: real FLEURS, Common Voice and AISHELL-1 recordings, real Asterisk
prompts, espeak-ng sentences posted with their language named where it is supported): whether the spoken language
was identified (`language.spoken`; named, for the synthetic clips), whether a language outside the supported ones
was marked so, which model transcribed, and the word error rate (character error rate for ja and zh) against the
reference. Both sides are normalised first: lower-cased, apostrophes and hyphens read as spaces ("qu'on" is "qu on"
on both sides), punctuation removed; for ja and zh every character but letters and digits is dropped and Chinese
is compared in simplified characters (OpenCC t2s: Whisper writes traditional ones for some Mandarin clips, a
script, not a recognition, difference). Numbers are not spelled out: "20" against "vinte" counts as an error.

Over every set: the spread (min / median / max over the clips that got one) of every score: overall (0-100), the
four categories (0-10) and the engine's five levels (0-1). On the validity set (benchmarks/validity_set.py, clips
that differ in one behaviour): every clip's scores, the rank order each expected comparison reads, the scores that
must be null, and the base clip against the same audio with the face removed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from benchmarks.labelled_set import CACHE_DIR, ClipTruth, labelled_set
from benchmarks.languages_set import LanguageClip, languages_set
from benchmarks.real_set import RealClip, content_words, real_set
from benchmarks.validity_set import FACE_REMOVED, RANKED, SCORES, UNSCORED, ValidityClip, body_scores, validity_set
from softskills.models.interpretation.model import CATEGORIES
from softskills.models.measurements import SPEECH_METRICS
from softskills.models.speech.spoken_language import SUPPORTED
from softskills.models.speech.weights import MODELS

SERVE_CONFIG = Path(__file__).resolve().parent.parent / "serve_config.cpu.yaml"
FILLER_MATCH_S = 0.5
PAUSE_EDGE_TOLERANCE_S = 0.3
LONG_PAUSE_S = 2.0
TARGET_FILLER_PRECISION = 0.9
TARGET_FILLER_RECALL = 0.9
TARGET_PACE_ERROR = 0.08
TARGET_FACE_VISIBLE_ERROR = 0.03
TARGET_REAL_WER = 0.06
CONNECTED_SPEECH_MIN_WORDS = 10  # shorter references are the disfluency clips' "montreal forced aligner"
TARGET_REAL_FACE_VISIBLE_ERROR = 0.05
CHARACTER_LANGUAGES = ("ja", "zh")  # no spaces between words: error rate over characters
_HESITATION = re.compile(r"^(u+m+|u+h+m*|e+r+m*|a+h+|h+m+|m{2,}|\(filled pause\))$")


@dataclass(frozen=True)
class ClipScore:
    name: str
    voice: str
    rate_wpm: int
    exact: bool  # constructed truth; the real recording's truth is an energy-rule estimate
    ref_words: int
    word_errors: int
    fillers_true: int
    fillers_found: int
    fillers_matched: int
    pace_true_wpm: float
    pace_measured_wpm: float | None
    long_pauses: int
    long_pauses_found: int
    pause_edge_errors_s: tuple[float, ...]
    face_visible_true: float
    face_visible_measured: float | None
    look_aways: int
    look_aways_found: int
    look_away_edge_errors_s: tuple[float, ...]
    transcript: str

    @property
    def wer(self) -> float:
        return self.word_errors / self.ref_words

    @property
    def pace_error(self) -> float | None:
        if self.pace_measured_wpm is None:
            return None
        return abs(self.pace_measured_wpm - self.pace_true_wpm) / self.pace_true_wpm

    @property
    def face_visible_error(self) -> float | None:
        return None if self.face_visible_measured is None else abs(self.face_visible_measured - self.face_visible_true)


def normalize_words(text: str) -> list[str]:
    return [w for w in (re.sub(r"[^\w']", "", t) for t in text.lower().replace("-", " ").split()) if w]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (the numerator of WER)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def filler_class(word: str) -> str:
    word = word.lower().strip()
    return "hesitation" if _HESITATION.match(word) else word


def _interval_gap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, max(a[0], b[0]) - min(a[1], b[1]))


def match_fillers(truth: list[tuple[str, float, float]], found: list[tuple[str, float, float]]) -> int:
    """Greedy one-to-one matching, closest pairs first."""
    pairs = sorted(
        (_interval_gap((ts, te), (fs, fe)), i, j)
        for i, (tw, ts, te) in enumerate(truth)
        for j, (fw, fs, fe) in enumerate(found)
        if filler_class(tw) == filler_class(fw)
    )
    used_t, used_f = set(), set()
    for gap, i, j in pairs:
        if gap <= FILLER_MATCH_S and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def _best_overlap(interval: tuple[float, float], candidates: list[tuple[float, float]]) -> tuple[float, float] | None:
    best, best_overlap = None, 0.0
    for c in candidates:
        overlap = min(interval[1], c[1]) - max(interval[0], c[0])
        if overlap > best_overlap:
            best, best_overlap = c, overlap
    return best


def score_clip(truth: ClipTruth, body: dict) -> ClipScore:
    video = body["video_analysis"]
    speech = video["metrics"]["speech"] or {}
    face = video["metrics"]["face"] or {}
    hyp = normalize_words(body.get("transcript") or "")
    ref = list(truth.words)
    found_fillers = [(f["word"], f["start_s"], f["end_s"]) for f in speech.get("fillers", [])]
    true_fillers = [(f.word, f.start_s, f.end_s) for f in truth.fillers]
    reported_pauses = [(p["start_s"], p["end_s"]) for p in speech.get("pauses", [])]
    long_found, pause_errors = 0, []
    for s, e in truth.pauses:
        best = _best_overlap((s, e), reported_pauses)
        if best is None:
            continue
        errors = (abs(best[0] - s), abs(best[1] - e))
        pause_errors.extend(errors)
        if e - s >= LONG_PAUSE_S and max(errors) <= PAUSE_EDGE_TOLERANCE_S:
            long_found += 1
    looks = [(x["start_s"], x["end_s"]) for x in face.get("look_away_intervals") or []]
    look_found, look_errors = 0, []
    for s, e in truth.face_absent:
        best = _best_overlap((s, e), looks)
        if best is not None:
            look_found += 1
            look_errors.extend((abs(best[0] - s), abs(best[1] - e)))
    return ClipScore(
        name=truth.name,
        voice=truth.voice,
        rate_wpm=truth.rate_wpm,
        exact=truth.exact,
        ref_words=len(ref),
        word_errors=edit_distance(ref, hyp),
        fillers_true=len(true_fillers),
        fillers_found=len(found_fillers),
        fillers_matched=match_fillers(true_fillers, found_fillers),
        pace_true_wpm=truth.pace_wpm,
        pace_measured_wpm=speech.get("pace_wpm"),
        long_pauses=sum(e - s >= LONG_PAUSE_S for s, e in truth.pauses),
        long_pauses_found=long_found,
        pause_edge_errors_s=tuple(pause_errors),
        face_visible_true=truth.face_visible_ratio,
        face_visible_measured=face.get("face_visible_ratio"),
        look_aways=len(truth.face_absent),
        look_aways_found=look_found,
        look_away_edge_errors_s=tuple(look_errors),
        transcript=body.get("transcript") or "",
    )


def _ratio(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "–"


def _mean(values) -> str:
    return f"{np.mean(values):.2f}" if len(values) else "–"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


@dataclass(frozen=True)
class Overall:
    wer: float
    filler_precision: float
    filler_recall: float
    max_pace_error: float
    mean_pace_error: float
    long_pause_recall: float
    mean_pause_edge_error_s: float
    max_face_visible_error: float
    look_away_recall: float
    mean_look_away_edge_error_s: float

    def targets(self) -> dict[str, bool]:
        return {
            f"filler precision >= {TARGET_FILLER_PRECISION}": self.filler_precision >= TARGET_FILLER_PRECISION,
            f"filler recall >= {TARGET_FILLER_RECALL}": self.filler_recall >= TARGET_FILLER_RECALL,
            f"pace error <= {TARGET_PACE_ERROR:.0%} on every clip": self.max_pace_error <= TARGET_PACE_ERROR,
            f"every pause >= {LONG_PAUSE_S:.0f} s found within {PAUSE_EDGE_TOLERANCE_S} s": self.long_pause_recall
            == 1.0,
            f"face-visible ratio within {TARGET_FACE_VISIBLE_ERROR} on every clip": self.max_face_visible_error
            <= TARGET_FACE_VISIBLE_ERROR,
        }


def overall(scores: list[ClipScore]) -> Overall:
    """Pooled over the clips with constructed truth; targets are judged on these."""
    scores = [s for s in scores if s.exact]
    found = sum(s.fillers_found for s in scores)
    true = sum(s.fillers_true for s in scores)
    matched = sum(s.fillers_matched for s in scores)
    pace = [s.pace_error if s.pace_error is not None else 1.0 for s in scores]
    face = [s.face_visible_error if s.face_visible_error is not None else 1.0 for s in scores]
    long_true = sum(s.long_pauses for s in scores)
    looks = sum(s.look_aways for s in scores)
    return Overall(
        wer=sum(s.word_errors for s in scores) / sum(s.ref_words for s in scores),
        filler_precision=matched / found if found else 1.0,
        filler_recall=matched / true if true else 1.0,
        max_pace_error=max(pace),
        mean_pace_error=float(np.mean(pace)),
        long_pause_recall=sum(s.long_pauses_found for s in scores) / long_true if long_true else 1.0,
        mean_pause_edge_error_s=float(np.mean([e for s in scores for e in s.pause_edge_errors_s] or [np.nan])),
        max_face_visible_error=max(face),
        look_away_recall=sum(s.look_aways_found for s in scores) / looks if looks else 1.0,
        mean_look_away_edge_error_s=float(np.mean([e for s in scores for e in s.look_away_edge_errors_s] or [np.nan])),
    )


def markdown(scores: list[ClipScore], total: Overall) -> str:
    head = (
        "| clip | voice, rate | WER | filler P | filler R | pace true → measured (error) | pauses ≥ 2 s found "
        "| pause edge err (s) | face-visible true → measured | look-aways found | look-away edge err (s) |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for s in scores:
        rate = "real" if s.rate_wpm == 0 else f"{s.rate_wpm} wpm"
        pace = (
            "–"
            if s.pace_measured_wpm is None
            else f"{s.pace_true_wpm:.0f} → {s.pace_measured_wpm:.0f} ({_pct(s.pace_error)})"
        )
        name = s.name if s.exact else f"{s.name} (approximate truth, not pooled)"
        lines.append(
            f"| {name} | {s.voice}, {rate} | {s.wer:.2f} | {_ratio(s.fillers_matched, s.fillers_found)} "
            f"| {_ratio(s.fillers_matched, s.fillers_true)} | {pace} | {_ratio(s.long_pauses_found, s.long_pauses)} "
            f"| {_mean(s.pause_edge_errors_s)} | {s.face_visible_true:.3f} → {_num(s.face_visible_measured)} "
            f"| {_ratio(s.look_aways_found, s.look_aways)} | {_mean(s.look_away_edge_errors_s)} |"
        )
    lines.append(
        f"| **{sum(s.exact for s in scores)} constructed clips** | | **{total.wer:.2f}** | "
        f"**{total.filler_precision:.2f}** | "
        f"**{total.filler_recall:.2f}** | mean {_pct(total.mean_pace_error)}, max **{_pct(total.max_pace_error)}** | "
        f"**{total.long_pause_recall:.2f}** | {total.mean_pause_edge_error_s:.2f} | max error "
        f"**{total.max_face_visible_error:.3f}** | {total.look_away_recall:.2f} | "
        f"{total.mean_look_away_edge_error_s:.2f} |"
    )
    return "\n".join(lines)


def run(clips: list, responses_dir: Path, config: Path, speech_model: str | None) -> list[tuple[int, dict]]:
    """Posts every clip (anything with a name and a path, and the form `fields` it may have) to full-analysis;
    (status, body) per clip."""
    from testkit.service_runner import running_service

    answers = []
    with tempfile.TemporaryDirectory(prefix="softskills-accuracy-") as data_dir:
        if speech_model is not None:
            settings = yaml.safe_load(config.read_text())
            settings["applications"][0]["args"].setdefault("speech", {})["model"] = speech_model
            config = Path(data_dir) / f"{config.stem}.{speech_model}.yaml"
            config.write_text(yaml.safe_dump(settings))
        with running_service(Path(data_dir), config) as svc:
            for clip in clips:
                response = svc.post(
                    "/api/v1/full-analysis",
                    clip.path,
                    timeout=900,
                    data={"sessionId": clip.name, **getattr(clip, "fields", {})},
                )
                body = response.json()
                (responses_dir / f"{clip.name}.json").write_text(
                    json.dumps({"status": response.status_code, "body": body}, indent=1)
                )
                answers.append((response.status_code, body))
                print(f"analysed {clip.name}: {response.status_code}", file=sys.stderr, flush=True)
    return answers


@dataclass(frozen=True)
class RealScore:
    name: str
    status: int
    ref_words: int
    word_errors: int
    filled_pauses_true: int
    filled_pauses_found: int
    pace_true_wpm: float | None
    pace_measured_wpm: float | None
    face_visible_true: float
    face_visible_measured: float | None
    speech_claimed: bool  # a speech score, pace or filler count despite no speech in the truth
    transcript: str

    @property
    def face_visible_error(self) -> float | None:
        return None if self.face_visible_measured is None else abs(self.face_visible_measured - self.face_visible_true)


def score_real_clip(clip: RealClip, status: int, body: dict) -> RealScore:
    """Content WER, filled pauses (counted per clip: the references have no filler times), pace, face."""
    video = body.get("video_analysis") or {}
    speech = (video.get("metrics") or {}).get("speech") or {}
    face = (video.get("metrics") or {}).get("face") or {}
    transcript = body.get("transcript") or ""
    ref = content_words(clip.reference) if clip.reference else []
    found = sum(filler_class(f["word"]) == "hesitation" for f in speech.get("fillers", []))
    scores = video.get("score_details", {}).get("categories", {})
    speech_scored = any(c["metric"] in SPEECH_METRICS for d in scores.values() for c in d["components"])
    return RealScore(
        name=clip.name,
        status=status,
        ref_words=len(ref),
        word_errors=edit_distance(ref, content_words(transcript)),
        filled_pauses_true=clip.filled_pauses,
        filled_pauses_found=found,
        pace_true_wpm=clip.pace_wpm,
        pace_measured_wpm=video.get("speaking_pace_wpm"),
        face_visible_true=clip.face_visible_ratio,
        face_visible_measured=face.get("face_visible_ratio"),
        speech_claimed=not clip.has_speech
        and (speech_scored or video.get("speaking_pace_wpm") is not None or bool(video.get("filler_word_count"))),
        transcript=transcript,
    )


@dataclass(frozen=True)
class RealOverall:
    clips: int
    non_200: int
    content_wer: float  # over the clips of connected speech (the target)
    short_clip_wer: float  # over the disfluency clips of a few words, where one odd name decides it
    filled_pause_precision: float
    filled_pause_recall: float
    max_face_visible_error: float
    speech_claims_without_speech: int

    def targets(self) -> dict[str, bool]:
        return {
            "every real clip answers 200": self.non_200 == 0,
            f"content WER <= {TARGET_REAL_WER} on connected speech": self.content_wer <= TARGET_REAL_WER,
            f"filled-pause precision >= {TARGET_FILLER_PRECISION}": self.filled_pause_precision
            >= TARGET_FILLER_PRECISION,
            f"filled-pause recall >= {TARGET_FILLER_RECALL}": self.filled_pause_recall >= TARGET_FILLER_RECALL,
            f"face-visible ratio within {TARGET_REAL_FACE_VISIBLE_ERROR} on every clip": self.max_face_visible_error
            <= TARGET_REAL_FACE_VISIBLE_ERROR,
            "no speech claims without speech": self.speech_claims_without_speech == 0,
        }


def _wer(scores: list[RealScore]) -> float:
    return sum(s.word_errors for s in scores) / max(1, sum(s.ref_words for s in scores))


def real_overall(scores: list[RealScore]) -> RealOverall:
    found = sum(s.filled_pauses_found for s in scores)
    true = sum(s.filled_pauses_true for s in scores)
    matched = sum(min(s.filled_pauses_found, s.filled_pauses_true) for s in scores)
    return RealOverall(
        clips=len(scores),
        non_200=sum(s.status != 200 for s in scores),
        content_wer=_wer([s for s in scores if s.ref_words >= CONNECTED_SPEECH_MIN_WORDS]),
        short_clip_wer=_wer([s for s in scores if 0 < s.ref_words < CONNECTED_SPEECH_MIN_WORDS]),
        filled_pause_precision=matched / found if found else 1.0,
        filled_pause_recall=matched / true if true else 1.0,
        max_face_visible_error=max(s.face_visible_error if s.face_visible_error is not None else 1.0 for s in scores),
        speech_claims_without_speech=sum(s.speech_claimed for s in scores),
    )


def real_markdown(scores: list[RealScore], total: RealOverall) -> str:
    head = (
        "| clip | status | content WER | filled pauses true → found | pace true → measured | "
        "face-visible true → measured | transcript |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for s in scores:
        wer = f"{s.word_errors / s.ref_words:.2f} ({s.word_errors}/{s.ref_words})" if s.ref_words else "–"
        pace = "–" if s.pace_true_wpm is None else f"{s.pace_true_wpm:.0f} → {_num(s.pace_measured_wpm, 0)}"
        text = s.transcript if len(s.transcript) <= 60 else s.transcript[:57] + "..."
        lines.append(
            f"| {s.name} | {s.status} | {wer} | {s.filled_pauses_true} → {s.filled_pauses_found} | {pace} "
            f"| {s.face_visible_true:.3f} → {_num(s.face_visible_measured)} | {text or '–'} |"
        )
    lines.append(
        f"| **{total.clips} real clips** | **{total.clips - total.non_200}/{total.clips} 200** "
        f"| **{total.content_wer:.3f}** connected speech, {total.short_clip_wer:.2f} short clips "
        f"| P **{total.filled_pause_precision:.2f}**, "
        f"R **{total.filled_pause_recall:.2f}** | | max error **{total.max_face_visible_error:.3f}** | |"
    )
    return "\n".join(lines)


def language_units(text: str, language: str) -> list[str]:
    """The words (characters for ja and zh) an error rate is counted over, normalised as the docstring says."""
    text = text.lower()
    if language in CHARACTER_LANGUAGES:
        if language == "zh":
            import opencc

            text = opencc.OpenCC("t2s").convert(text)
        return [c for c in text if c.isalnum()]
    return [w for w in (re.sub(r"\W", "", t) for t in re.sub(r"[-'\u2019]", " ", text).split()) if w]


@dataclass(frozen=True)
class LanguageScore:
    name: str
    source: str
    language: str
    status: int
    spoken: str | None
    probability: float | None
    supported: bool | None
    model: str | None
    ref_units: int
    errors: int | None  # None without a reference
    transcript: str

    @property
    def identified(self) -> bool:
        return self.spoken == self.language

    @property
    def marked_right(self) -> bool:
        """A supported language marked supported, any other one marked unsupported (and none left unknown)."""
        return self.supported is (self.language in SUPPORTED)


def score_language_clip(clip: LanguageClip, status: int, body: dict) -> LanguageScore:
    language = body.get("language") or {}
    details = body.get("transcript_details") or {}
    transcript = body.get("transcript") or ""
    ref = language_units(clip.reference, clip.language) if clip.reference else []
    return LanguageScore(
        name=clip.name,
        source=clip.source,
        language=clip.language,
        status=status,
        spoken=language.get("spoken"),
        probability=language.get("probability"),
        supported=language.get("supported"),
        model=details.get("model"),
        ref_units=len(ref),
        errors=edit_distance(ref, language_units(transcript, clip.language)) if ref else None,
        transcript=transcript,
    )


def _error_rate(scores: list[LanguageScore]) -> str:
    scored = [s for s in scores if s.errors is not None]
    units = sum(s.ref_units for s in scored)
    return f"{sum(s.errors for s in scored) / units:.3f} ({len(scored)} clips)" if units else "–"


def languages_markdown(scores: list[LanguageScore]) -> str:
    head = (
        "| language | clips real / espeak-ng | identified: real | espeak-ng: identified or named "
        "| supported marked right | model | error rate: real | error rate: espeak-ng |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for language in dict.fromkeys(s.language for s in scores):
        mine = [s for s in scores if s.language == language]
        real, espeak = [s for s in mine if s.source == "real"], [s for s in mine if s.source != "real"]
        unit = "CER" if language in CHARACTER_LANGUAGES else "WER"
        lines.append(
            f"| {language}{'' if language in SUPPORTED else ' (unsupported)'} | {len(real)} / {len(espeak)} "
            f"| {_ratio(sum(s.identified for s in real), len(real))} "
            f"| {_ratio(sum(s.identified for s in espeak), len(espeak))} "
            f"| {_ratio(sum(s.marked_right for s in mine), len(mine))} "
            f"| {', '.join(sorted({s.model or '–' for s in mine}))} "
            f"| {unit} {_error_rate(real)} | {unit} {_error_rate(espeak)} |"
        )
    lines += [
        "",
        "| clip | status | spoken (probability) | model | error rate | transcript |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in scores:
        rate = "–" if s.errors is None else f"{s.errors / s.ref_units:.2f} ({s.errors}/{s.ref_units})"
        text = s.transcript if len(s.transcript) <= 50 else s.transcript[:47] + "..."
        lines.append(
            f"| {s.name} ({s.language}) | {s.status} | {s.spoken} ({_num(s.probability, 2)}) "
            f"| {s.model or '–'} | {rate} | {text or '–'} |"
        )
    return "\n".join(lines)


def languages_targets(scores: list[LanguageScore]) -> dict[str, bool]:
    real = [s for s in scores if s.source == "real"]
    return {
        "every languages clip answers 200": all(s.status == 200 for s in scores),
        "the language of every real recording identified": all(s.identified for s in real),
        "every real recording's language marked supported or not as it is": all(s.marked_right for s in real),
    }


def _scale(score: str) -> str:
    return "0-100" if score == "overall" else "0-10" if score in CATEGORIES else "0-1"


def _score(x: float | None) -> str:
    return "null" if x is None else f"{x:g}"


def spread(rows: list[dict]) -> dict[str, dict]:
    """min / median / max of each score over the clips that got one, and how many did."""
    out = {}
    for score in SCORES:
        values = [r[score] for r in rows if r[score] is not None]
        out[score] = {
            "scored": len(values),
            "clips": len(rows),
            "min": min(values, default=None),
            "median": float(np.median(values)) if values else None,
            "max": max(values, default=None),
        }
    return out


def spread_markdown(spreads: dict[str, dict]) -> str:
    """One row per score, min / median / max per set."""
    names = list(spreads)
    head = "| score | scale | " + " | ".join(f"{n}: scored | min | median | max" for n in names) + " |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for score in SCORES:
        cells = []
        for n in names:
            s = spreads[n][score]
            cells.append(
                f"{s['scored']}/{s['clips']} | {_score(s['min'])} | "
                f"{_score(None if s['median'] is None else round(s['median'], 3))} | {_score(s['max'])}"
            )
        lines.append(f"| {score} | {_scale(score)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def validity_checks(scores: dict[str, dict]) -> dict[str, bool]:
    """The rank order and the null scores benchmarks/validity_set.py expects, met or not."""
    met = {
        f"{r.score}: {r.higher} > {r.lower}": None not in (scores[r.higher][r.score], scores[r.lower][r.score])
        and scores[r.higher][r.score] > scores[r.lower][r.score]
        for r in RANKED
    }
    met.update(
        {f"{', '.join(names)} null on {clip}": all(scores[clip][k] is None for k in names) for clip, names in UNSCORED}
    )
    return met


def validity_markdown(clips: dict[str, ValidityClip], scores: dict[str, dict]) -> str:
    head = "| clip | differs by | pace true (wpm) | " + " | ".join(SCORES) + " |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for name, clip in clips.items():
        lines.append(
            f"| {name} | {clip.differs_by} | {_num(clip.pace_wpm, 0)} | "
            + " | ".join(_score(scores[name][k]) for k in SCORES)
            + " |"
        )
    lines.append("\nRank order (highest first) of the clips each expected comparison involves:\n")
    for score in dict.fromkeys(r.score for r in RANKED):
        involved = dict.fromkeys(n for r in RANKED if r.score == score for n in (r.higher, r.lower))
        ranked = sorted(involved, key=lambda n: -(scores[n][score] if scores[n][score] is not None else -1))
        lines.append(f"- {score}: " + " > ".join(f"{n} {_score(scores[n][score])}" for n in ranked))
    clip, reference = FACE_REMOVED
    changes = []
    for k in SCORES:
        before, after = scores[reference][k], scores[clip][k]
        change = (
            "null"
            if after is None
            else "unscored before"
            if before is None
            else "equal"
            if after == before
            else "lower"
            if after < before
            else "HIGHER"
        )
        changes.append(f"{k} {_score(before)} → {_score(after)} ({change})")
    lines.append(f"- {reference} → {clip}: " + "; ".join(changes))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="score the responses saved by the last run instead of starting the service",
    )
    parser.add_argument(
        "--set",
        choices=("all", "constructed", "real", "languages"),
        default="all",
        dest="which",
        help="the constructed sets (the labelled espeak-ng clips and the validity clips), the "
        "real-recordings set, the languages set, or all",
    )
    parser.add_argument("--config", type=Path, default=SERVE_CONFIG, help="the Serve config to run")
    parser.add_argument(
        "--speech-model",
        choices=MODELS,
        help="run the config with this packaged Whisper model (speech.model) instead of its own",
    )
    args = parser.parse_args(argv)
    constructed = labelled_set() if args.which in ("all", "constructed") else []
    real = real_set(CACHE_DIR) if args.which in ("all", "real") else []
    validity = validity_set(CACHE_DIR) if args.which in ("all", "constructed") else {}
    languages = languages_set(CACHE_DIR) if args.which in ("all", "languages") else []
    responses_dir = CACHE_DIR / "responses"
    responses_dir.mkdir(parents=True, exist_ok=True)
    clips = [
        *constructed,
        *real,
        *(replace(c, name=f"validity_{c.name}") for c in validity.values()),
        *(replace(c, name=f"languages_{c.name}") for c in languages),
    ]
    if args.rescore:
        saved = [json.loads((responses_dir / f"{c.name}.json").read_text()) for c in clips]
        answers = [(a["status"], a["body"]) for a in saved]
    else:
        answers = run(clips, responses_dir, args.config, args.speech_model)
    source = (
        "saved responses"
        if args.rescore
        else args.config.name + (f", speech.model {args.speech_model}" if args.speech_model else "")
    )
    met: dict[str, bool] = {}
    report: dict = {}
    sets = {
        "labelled": answers[: len(constructed)],
        "real": answers[len(constructed) : len(constructed) + len(real)],
        "validity": answers[len(constructed) + len(real) : len(answers) - len(languages)],
        "languages": answers[len(answers) - len(languages) :],
    }
    if constructed:
        scores = [score_clip(c, body) for c, (_, body) in zip(constructed, sets["labelled"])]
        total = overall(scores)
        report["constructed"] = {"clips": [asdict(s) for s in scores], "overall": asdict(total)}
        print(f"Accuracy on {len(constructed)} labelled clips ({source}), {datetime.date.today().isoformat()}\n")
        print(markdown(scores, total) + "\n")
        met.update(total.targets())
    if real:
        real_scores = [score_real_clip(c, status, body) for c, (status, body) in zip(real, sets["real"])]
        real_total = real_overall(real_scores)
        report["real"] = {"clips": [asdict(s) for s in real_scores], "overall": asdict(real_total)}
        print(f"Accuracy on {len(real)} real-recording clips ({source}), {datetime.date.today().isoformat()}\n")
        print(real_markdown(real_scores, real_total) + "\n")
        met.update({f"real: {k}": v for k, v in real_total.targets().items()})
    if validity:
        validity_scores = {name: body_scores(body) for name, (_, body) in zip(validity, sets["validity"])}
        report["validity"] = {"clips": {n: asdict(c) for n, c in validity.items()}, "scores": validity_scores}
        print(f"Validity: {len(validity)} clips built to differ in one behaviour ({source})\n")
        print(validity_markdown(validity, validity_scores) + "\n")
        met.update({f"validity: {k}": v for k, v in validity_checks(validity_scores).items()})
    if languages:
        language_scores = [
            score_language_clip(c, status, body) for c, (status, body) in zip(languages, sets["languages"])
        ]
        report["languages"] = {"clips": [asdict(s) for s in language_scores]}
        print(f"Languages: {len(languages)} clips ({source}), {datetime.date.today().isoformat()}\n")
        print(languages_markdown(language_scores) + "\n")
        met.update({f"languages: {k}": v for k, v in languages_targets(language_scores).items()})
    spreads = {name: spread([body_scores(body) for _, body in answered]) for name, answered in sets.items() if answered}
    report["spread"] = spreads
    print("Score spread per set (clips that got the score / clips; min, median, max)\n")
    print(spread_markdown(spreads) + "\n")
    (CACHE_DIR / "accuracy.json").write_text(json.dumps(report, indent=1))
    for target, ok in met.items():
        print(f"- {'met' if ok else 'MISSED'}: {target}")
    return 1 if args.strict and not all(met.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
