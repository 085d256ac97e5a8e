"""Speaker diarization accuracy on the labelled speaker set (benchmarks/speakers_set.py), and its cost.

Runs models/speech/speakers.py directly (no Ray service): energy voice activity (models/voice.py) on the audio as a
whole, then diarize(). Reported per recording and per kind:
- DER, the diarization error rate: (missed speech + false alarm + speaker confusion) / reference speech time,
  NIST-style: a 0.25 s collar around every reference boundary is not scored, overlapping reference speech is
  scored (each speaker counts), and hypothesis speakers are mapped one-to-one onto reference speakers so as to
  maximise the time they agree (Hungarian method, scipy's linear_sum_assignment).
- speaker count right: the number of speakers found equals the number in the reference.
- split: a single-speaker recording given more than one speaker (must never happen).

    python -m benchmarks.speakers_accuracy            # the table
    python -m benchmarks.speakers_accuracy --speed    # also seconds of CPU time per minute of audio
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmarks.speakers_set import SAMPLE_RATE, LabelledAudio, speakers_set
from softskills.models.speech.speakers import Diarization, VoiceEncoder, diarize
from softskills.models.speech.voice import analyze_voice

COLLAR_S = 0.25
SCORING_HOP_S = 0.01
KINDS = ("conversation", "spliced", "spliced-overlap", "single")


@dataclass(frozen=True)
class DiarizationError:
    scored_s: float  # reference speech time scored (per speaker, so overlap counts twice)
    missed_s: float
    false_alarm_s: float
    confusion_s: float

    @property
    def der(self) -> float | None:
        if self.scored_s <= 0:
            return None
        return (self.missed_s + self.false_alarm_s + self.confusion_s) / self.scored_s


def _activity(spans: Sequence[tuple[object, float, float]], n: int) -> tuple[list[object], np.ndarray]:
    """Speaker labels and a (speakers, frames) boolean activity matrix."""
    speakers = sorted({s for s, _, _ in spans}, key=str)
    active = np.zeros((len(speakers), n), dtype=bool)
    for speaker, start_s, end_s in spans:
        active[speakers.index(speaker), int(round(start_s / SCORING_HOP_S)) : int(round(end_s / SCORING_HOP_S))] = True
    return speakers, active


def diarization_error(
    reference: Sequence[tuple[object, float, float]],
    hypothesis: Sequence[tuple[object, float, float]],
    collar_s: float = COLLAR_S,
) -> DiarizationError:
    """Frame-based DER (10 ms frames) with the collar and the optimal one-to-one speaker mapping."""
    end_s = max([e for _, _, e in [*reference, *hypothesis]], default=0.0)
    n = int(np.ceil(end_s / SCORING_HOP_S)) + 1
    _, ref = _activity(reference, n)
    _, hyp = _activity(hypothesis, n)
    scored = np.ones(n, dtype=bool)
    collar = int(round(collar_s / SCORING_HOP_S))
    for _, start_s, stop_s in reference:
        for t in (start_s, stop_s):
            i = int(round(t / SCORING_HOP_S))
            scored[max(0, i - collar) : i + collar] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    correct = np.zeros(ref.shape[1])
    if len(ref) and len(hyp):
        agreement = ref.astype(np.float64) @ hyp.T.astype(np.float64)  # frames where ref i and hyp j both talk
        rows, cols = linear_sum_assignment(-agreement)
        for i, j in zip(rows, cols):
            correct += ref[i] & hyp[j]
    return DiarizationError(
        scored_s=float(n_ref.sum() * SCORING_HOP_S),
        missed_s=float(np.maximum(n_ref - n_hyp, 0).sum() * SCORING_HOP_S),
        false_alarm_s=float(np.maximum(n_hyp - n_ref, 0).sum() * SCORING_HOP_S),
        confusion_s=float((np.minimum(n_ref, n_hyp) - correct).sum() * SCORING_HOP_S),
    )


def run_diarization(item: LabelledAudio, encoder: VoiceEncoder, speakers_expected: int | None = None) -> Diarization:
    voice = analyze_voice(item.audio)
    return diarize(item.audio, voice.speech_segments, encoder, speakers_expected=speakers_expected)


@dataclass(frozen=True)
class ItemResult:
    name: str
    kind: str
    duration_s: float
    speakers_true: int
    speakers_found: int
    der: float | None
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    scored_s: float


def evaluate(items: Sequence[LabelledAudio], encoder: VoiceEncoder) -> list[ItemResult]:
    out = []
    for item in items:
        diarization = run_diarization(item, encoder)
        error = diarization_error(item.reference, [(s.speaker, s.start_s, s.end_s) for s in diarization.speech])
        out.append(
            ItemResult(
                item.name,
                item.kind,
                round(item.duration_s, 1),
                item.speaker_count,
                diarization.speaker_count,
                error.der,
                error.missed_s,
                error.false_alarm_s,
                error.confusion_s,
                error.scored_s,
            )
        )
    return out


def summary(results: Sequence[ItemResult]) -> list[dict]:
    """Per kind: pooled DER (error time over scored time) and its parts, speaker-count accuracy, splits."""
    rows = []
    for kind in [*KINDS, "all"]:
        group = [r for r in results if kind in ("all", r.kind)]
        if not group:
            continue
        scored = sum(r.scored_s for r in group)
        rows.append(
            {
                "kind": kind,
                "recordings": len(group),
                "audio_s": round(sum(r.duration_s for r in group), 1),
                "der": round(sum(r.missed_s + r.false_alarm_s + r.confusion_s for r in group) / scored, 3),
                "missed": round(sum(r.missed_s for r in group) / scored, 3),
                "false_alarm": round(sum(r.false_alarm_s for r in group) / scored, 3),
                "confusion": round(sum(r.confusion_s for r in group) / scored, 3),
                "count_right": f"{sum(r.speakers_found == r.speakers_true for r in group)}/{len(group)}",
                "single_speaker_split": sum(r.speakers_true == 1 and r.speakers_found > 1 for r in group),
            }
        )
    return rows


def seconds_per_audio_minute(encoder: VoiceEncoder, items: Sequence[LabelledAudio], repeats: int = 3) -> dict:
    """CPU seconds of diarize() (embeddings, clustering, labelling; the voice activity is models/voice.py's and
    already paid for) per minute of audio, best of `repeats`, on the given recordings joined into one."""
    audio = np.concatenate([i.audio for i in items])
    segments = analyze_voice(audio).speech_segments
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        diarize(audio, segments, encoder)
        best = min(best, time.process_time() - start)
    minutes = len(audio) / SAMPLE_RATE / 60
    return {"audio_min": round(minutes, 2), "cpu_s": round(best, 2), "cpu_s_per_audio_min": round(best / minutes, 2)}


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "| " + " | ".join("---" for _ in keys) + " |"]
    lines += ["| " + " | ".join("" if r[k] is None else str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", action="store_true", help="also measure CPU seconds per minute of audio")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, help="only these kinds of recording")
    parser.add_argument("--json", type=Path, help="write the per-recording results and the summary here")
    args = parser.parse_args(argv)

    encoder = VoiceEncoder()
    items = speakers_set(set(args.kinds) if args.kinds else None)
    results = evaluate(items, encoder)
    per_item = [
        {
            **asdict(r),
            "der": None if r.der is None else round(r.der, 3),
            **{k: round(getattr(r, k), 2) for k in ("missed_s", "false_alarm_s", "confusion_s", "scored_s")},
        }
        for r in results
    ]
    print(_table(per_item))
    print()
    rows = summary(results)
    print(_table(rows))
    report = {"recordings": per_item, "summary": rows}
    if args.speed:
        speed = seconds_per_audio_minute(encoder, [i for i in items if i.kind != "single"])
        print(
            f"\ndiarize(): {speed['cpu_s_per_audio_min']} CPU s per audio minute "
            f"({speed['cpu_s']} s for {speed['audio_min']} min)"
        )
        report["speed"] = speed
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if any(r["single_speaker_split"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
