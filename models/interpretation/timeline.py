"""Where things happened: per-window scores, labelled moments and the few moments worth re-watching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.interpretation.scoring import overall_score, score_categories
from models.intervals import overlap_s

PACE_SPIKE_FACTOR = 1.25  # a window this much faster than the talk's own pace ...
PACE_SPIKE_MIN_WPM = 170.0  # ... and faster than the top of the comfortable range is a spike
MIN_WINDOW_SPEECH_S = 1.5  # less speaking time than this in a window gives no pace for it


@dataclass(frozen=True)
class Moment:
    kind: str  # filler | long_pause | look_away | pace_spike | monotone | smile
    start_s: float
    end_s: float
    label: str
    evidence: dict

    def to_dict(self) -> dict:
        return {"type": self.kind, "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2),
                "label": self.label, "evidence": self.evidence}


def window_metrics(signals, start_s: float, end_s: float) -> dict[str, float | None]:
    """The rubric's metrics measured inside one window, from the same per-word / per-frame evidence."""
    m: dict[str, float | None] = {}
    speech = signals.timed_speech if signals.speech_gap is None else None  # as the whole video's scores
    words = signals.transcript.words if speech is not None else ()
    minutes = (end_s - start_s) / 60.0
    if speech is not None:
        in_window = [w for w in words if start_s <= (w.start_s + w.end_s) / 2 < end_s]
        spoken_s = overlap_s(start_s, end_s, words[0].start_s, words[-1].end_s) - sum(
            overlap_s(start_s, end_s, p.start_s, p.end_s) for p in speech.pauses)
        m["word_count"] = float(len(in_window))
        m["pace_wpm"] = len(in_window) / spoken_s * 60.0 if spoken_s >= MIN_WINDOW_SPEECH_S else None
        m["filler_count"] = float(sum(start_s <= f.start_s < end_s for f in speech.fillers))
        m["filler_rate_per_min"] = m["filler_count"] / minutes
        m["long_pause_rate_per_min"] = sum(start_s <= p.start_s < end_s and p.is_long for p in speech.pauses) / minutes
        probabilities = [w.probability for w in in_window if w.probability is not None]
        m["stt_confidence"] = float(np.mean(probabilities)) if probabilities and signals.transcript.timing == "measured" else None
    voice = signals.voice
    if speech is not None and voice is not None and len(voice.loudness_db):
        idx = slice(int(start_s / voice.hop_s), int(np.ceil(end_s / voice.hop_s)))
        voiced, f0, loud = voice.voiced[idx], voice.f0_hz[idx], voice.loudness_db[idx]
        if voiced.sum() >= 10:
            semitones = 12 * np.log2(f0[voiced] / np.nanmedian(f0[voiced]))
            m["pitch_sd_semitones"] = float(np.nanstd(semitones))
            m["vocal_energy_db"] = float(np.mean(loud[voiced]))
            m["loudness_range_db"] = float(np.percentile(loud[voiced], 95) - np.percentile(loud[voiced], 5))
    face = signals.face
    if signals.face_gap is None:
        times = face.frame_times_s
        sel = (times >= start_s) & (times < end_s)
        if sel.any():
            visible = face.face_found[sel]
            m["face_visible_ratio"] = float(visible.mean())
            if visible.any():
                m["eye_contact_ratio"] = float(np.mean(face.eye_contact[sel][visible]))
                m["smile_ratio"] = sum(overlap_s(start_s, end_s, a, b) for a, b in face.smile_intervals) / (
                    end_s - start_s) / max(m["face_visible_ratio"], 1e-6)
    return m


def time_series(signals, window_s: float, observable_only: bool) -> list[dict]:
    """One row per window: the measured values and the category scores they give."""
    rows = []
    duration_s = signals.duration_s
    for start in np.arange(0.0, duration_s, window_s):
        end = float(min(start + window_s, duration_s))
        if end - start < window_s / 2 and rows:
            break  # a short tail window would swing the chart; its evidence is in the previous one's neighbourhood
        metrics = window_metrics(signals, float(start), end)
        categories = score_categories(metrics, observable_only=observable_only)
        rows.append({
            "start_s": round(float(start), 2), "end_s": round(end, 2),
            "pace_wpm": _r(metrics.get("pace_wpm"), 1),
            "filler_count": _r(metrics.get("filler_count"), 0),
            "eye_contact_ratio": _r(metrics.get("eye_contact_ratio"), 3),
            "vocal_energy_db": _r(metrics.get("vocal_energy_db"), 1),
            "pitch_sd_semitones": _r(metrics.get("pitch_sd_semitones"), 2),
            "scores": {name: c.score for name, c in categories.items()},
            "overall_score": overall_score(categories),
        })
    return rows


def labeled_moments(signals, time_series_rows: list[dict]) -> list[Moment]:
    moments: list[Moment] = []
    speech, voice, face = signals.timed_speech, signals.voice, signals.face
    if speech is not None:
        moments += [Moment("filler", f.start_s, f.end_s, f'Filler "{f.word}"', {"word": f.word, "method": f.method})
                    for f in speech.fillers]
        moments += [Moment("long_pause", p.start_s, p.end_s, f"{p.duration_s:.1f} s pause",
                           {"duration_s": round(p.duration_s, 2)}) for p in speech.pauses if p.is_long]
        talk_pace = speech.pace_wpm
        if talk_pace:
            for row in time_series_rows:
                pace = row["pace_wpm"]
                if pace and pace > max(PACE_SPIKE_FACTOR * talk_pace, PACE_SPIKE_MIN_WPM):
                    moments.append(Moment("pace_spike", row["start_s"], row["end_s"], f"Fast: {pace:.0f} wpm",
                                          {"window_pace_wpm": pace, "talk_pace_wpm": round(talk_pace, 1)}))
    if speech is not None and voice is not None:
        moments += [Moment("monotone", a, b, f"Flat pitch for {b - a:.0f} s ({sd:.1f} semitones SD)",
                           {"pitch_sd_semitones": round(sd, 2)}) for a, b, sd in voice.monotone_stretches]
    if signals.face_gap is None:
        moments += [Moment("look_away", a, b, f"Looked away for {b - a:.1f} s", {"duration_s": round(b - a, 2)})
                    for a, b in face.look_away_intervals]
        moments += [Moment("smile", a, b, f"Smile ({b - a:.1f} s)", {"duration_s": round(b - a, 2)})
                    for a, b in face.smile_intervals]
    return sorted(moments, key=lambda m: (m.start_s, m.kind))


def key_moments(moments: list[Moment], time_series_rows: list[dict], limit: int = 5) -> list[dict]:
    """The 3-5 moments most worth re-watching: the worst lapses and the best stretch, in time order."""
    candidates: list[tuple[float, dict]] = []

    def longest(kind: str) -> Moment | None:
        of_kind = [m for m in moments if m.kind == kind]
        return max(of_kind, key=lambda m: m.end_s - m.start_s) if of_kind else None

    for kind, why, weight in (("long_pause", "Longest pause: the thread is lost here.", 1.0),
                              ("look_away", "Longest look-away from the camera.", 0.8),
                              ("monotone", "Longest stretch of flat pitch.", 0.6)):
        m = longest(kind)
        if m is not None:
            candidates.append((weight * (m.end_s - m.start_s),
                               {**m.to_dict(), "tone": "improve", "why": f"{why} {m.label}."}))
    scored = [r for r in time_series_rows if r["overall_score"] is not None]
    fillers = [r for r in time_series_rows if r["filler_count"]]
    if fillers:
        dense = max(fillers, key=lambda r: r["filler_count"])
        if dense["filler_count"] >= 2:
            candidates.append((dense["filler_count"], _window_moment(
                dense, "filler_cluster", "improve", f"{dense['filler_count']:.0f} filler words in this window.")))
    spikes = [m for m in moments if m.kind == "pace_spike"]
    if spikes:
        fastest = max(spikes, key=lambda m: m.evidence["window_pace_wpm"])
        candidates.append((1.5, {**fastest.to_dict(), "tone": "improve", "why": f"Fastest stretch: {fastest.label}."}))
    if len(scored) >= 2:
        best = max(scored, key=lambda r: r["overall_score"])
        worst = min(scored, key=lambda r: r["overall_score"])
        candidates.append((5.0, _window_moment(best, "best_window", "keep",
                                               f"Best-scoring {best['end_s'] - best['start_s']:.0f} s "
                                               f"(overall {best['overall_score']}): do more of this.")))
        if worst is not best and worst["overall_score"] < best["overall_score"]:
            candidates.append((4.0, _window_moment(worst, "weakest_window", "improve",
                                                   f"Lowest-scoring window (overall {worst['overall_score']}).")))
    smile = longest("smile")
    if smile is not None:
        candidates.append((1.0, {**smile.to_dict(), "tone": "keep", "why": f"Warmest moment: {smile.label}."}))
    chosen = [c for _, c in sorted(candidates, key=lambda c: -c[0])[:limit]]
    return sorted(chosen, key=lambda c: c["start_s"])


def _window_moment(row: dict, kind: str, tone: str, why: str) -> dict:
    return {"type": kind, "start_s": row["start_s"], "end_s": row["end_s"], "label": why.split(":")[0],
            "tone": tone, "why": why, "evidence": {k: row[k] for k in ("pace_wpm", "filler_count",
                                                                      "eye_contact_ratio", "overall_score")}}


def _r(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    return round(float(value), digits) if digits else float(round(value))
