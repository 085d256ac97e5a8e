"""A speaker's progress against their own earlier sessions: for each headline metric and score, this session's
value, the speaker's baseline, the change, and whether the change is beyond their usual take-to-take variation.
Pure Python on typed records: the subject's sessions come from a store, the rules from the interpretation parameters
(`personal` in models/interpretation/data/interpretation_v2.json, documented in INTERPRETATION.md).

The rule, per headline (a metric or a score the parameters mark with the direction that is `better`):

- **Baseline**: the median of the last `progress.baseline_sessions` earlier sessions that have the value. The median
  has a 50% breakdown point (Hampel 1974): one unusual take among five moves it at most to a neighbouring take.
- **Usual variation** s: the larger of the metric's `floor` and the robust SD of the differences between consecutive
  takes over the last `progress.spread_sessions` earlier sessions, 1.4826 × MAD / √2. Successive differences (von
  Neumann et al. 1941; the MSSD of intra-individual variability, Jahng, Wood & Trull 2008) measure take-to-take
  change and not the drift of someone who is practising: a steady trend shifts every difference by the same amount,
  and the MAD around their median removes it. 1.4826 × MAD is the SD of normal data (Rousseeuw & Croux 1993); a
  difference of two independent takes has twice a take's variance, hence √2. The floor is a typical take-to-take SD
  of the metric: with three to ten takes any spread estimate is itself noisy, and two identical takes (a spread of 0)
  must not make every small change significant.
- **Verdict**: the improvement is how much closer to the `better` side this session is than the baseline (`lower`:
  baseline − value; `higher`: value − baseline; `band`: the baseline's distance outside the metric curve's top-scoring
  band minus this session's). `improved` when it exceeds `spread_multiplier` × s, `worse` when it falls below minus
  that, `usual` otherwise. 2.5 is the moderately conservative cut-off Leys et al. (2013) recommend for MAD-based
  outlier detection; tests/test_progress.py measures the share of unchanged sessions it calls changed.
- Scores (categories, overall) of earlier sessions are compared as this session's rules score them (the caller
  re-scores their stored metrics: models/interpretation/model.py, `rescored`), so a new parameter version or the
  start of personal calibration is never read as progress.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from softskills.models.i18n.text import Text
from softskills.models.interpretation import feedback

MAD_TO_SD = 1.4826  # 1 / Φ⁻¹(3/4): the MAD of normal data times this is its SD (Rousseeuw & Croux 1993)
IMPROVED, WORSE, USUAL = "improved", "worse", "usual"


@dataclass(frozen=True)
class Session:
    """One analysed take, as stored under its subject: its measured metric values and its scores (the categories
    and `overall`)."""

    metrics: Mapping[str, float]
    scores: Mapping[str, float]

    def value(self, name: str) -> float | None:
        return self.metrics.get(name, self.scores.get(name))


@dataclass(frozen=True)
class SessionRecord(Session):
    at: datetime


@dataclass(frozen=True)
class Baseline:
    """The speaker's usual value of one metric: a robust centre and their take-to-take SD (floored)."""

    centre: float
    spread: float
    sessions: int  # earlier sessions the centre is the median of


@dataclass(frozen=True)
class HeadlineProgress:
    name: str
    label: Text
    better: str  # lower | higher | band
    value: float | None
    baseline: float | None
    change: float | None  # value − baseline
    improvement: float | None  # how much closer to the better side than the baseline (negative: further)
    usual_variation: float | None  # the take-to-take SD s the verdict is judged against
    threshold: float | None  # spread_multiplier × s: an improvement beyond this is a verdict
    verdict: str | None  # improved | worse | usual; None with the reason when it cannot be judged
    sessions: int  # earlier sessions the baseline is over
    reason: Text | None


@dataclass(frozen=True)
class Progress:
    earlier_sessions: int
    min_sessions: int
    sessions_needed: int  # more earlier sessions before progress is judged; 0 when it is
    reason: Text | None  # why there is no progress yet
    headlines: tuple[HeadlineProgress, ...]
    feedback: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Calibration:
    """A metric judged against the speaker's own sessions as well as the population curve."""

    metric: str
    value: float
    population_score: float  # 0..10, the metric's curve
    baseline: Baseline  # the speaker's own usual value
    z: float  # (value − centre) / spread
    personal_score: float  # 0..10, the personal curve at z
    score: float  # the blend the categories and levels use


@dataclass(frozen=True)
class Personal:
    """What a session with a subject adds to the interpretation: its record to store, its progress, and the metrics
    judged against the subject's own distribution."""

    session: Session
    progress: Progress
    calibration: tuple[Calibration, ...] = field(default_factory=tuple)


def robust_spread(series: Sequence[float]) -> float:
    """1.4826 × MAD of the successive differences / √2: a take's SD, unmoved by a steady trend (0 under 3 takes)."""
    steps = [b - a for a, b in zip(series, series[1:])]
    if len(steps) < 2:
        return 0.0
    centre = median(steps)
    return MAD_TO_SD * median(abs(s - centre) for s in steps) / math.sqrt(2)


def baseline(series: Sequence[float], *, floor: float, centre_sessions: int, spread_sessions: int) -> Baseline:
    """The baseline of a chronological series: the median of its last `centre_sessions` values, and the larger of
    `floor` and the robust take-to-take SD over its last `spread_sessions`."""
    recent = list(series[-centre_sessions:])
    return Baseline(
        centre=median(recent), spread=max(floor, robust_spread(series[-spread_sessions:])), sessions=len(recent)
    )


def best_band(curve: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The values at which a score curve reaches its top: the comfortable range (pace 135-165 wpm)."""
    top = max(score for _, score in curve)
    at_top = [value for value, score in curve if score == top]
    return min(at_top), max(at_top)


def shortfall(value: float, better: str, band: tuple[float, float] | None = None) -> float:
    """How far a value is from the better side, in the metric's unit (larger is worse)."""
    if better == "lower":
        return value
    if better == "higher":
        return -value
    low, high = band
    return max(low - value, 0.0, value - high)


def improvement(value: float, centre: float, better: str, band: tuple[float, float] | None = None) -> float:
    """How much closer to the better side `value` is than `centre` (negative: further from it)."""
    return shortfall(centre, better, band) - shortfall(value, better, band)


def verdict(gain: float, threshold: float) -> str:
    return IMPROVED if gain > threshold else WORSE if gain < -threshold else USUAL


def chronological(earlier: Sequence[SessionRecord]) -> list[SessionRecord]:
    return sorted(earlier, key=lambda s: s.at)


def series_of(name: str, sessions: Sequence[Session]) -> list[float]:
    return [v for v in (s.value(name) for s in sessions) if v is not None and math.isfinite(v)]


def assess(current: Session, earlier: Sequence[SessionRecord], params: dict) -> Progress:
    """This session against the subject's earlier ones (any order; they are sorted by time), for each headline the
    parameters score (as they apply to the session's language) that this session or an earlier one has."""
    spec = params["personal"]
    need = spec["progress"]["min_sessions"]
    ordered = chronological(earlier)
    if len(ordered) < need:
        missing = need - len(ordered)
        return Progress(len(ordered), need, missing, feedback.progress_needs_sessions(need, len(ordered)), ())
    weighed = scored_metrics(params)
    headlines = tuple(
        _headline(name, metric, current, ordered, params)
        for name, metric in spec["metrics"].items()
        if "better" in metric
        and (name in weighed or name not in params["metrics"])
        and (current.value(name) is not None or series_of(name, ordered))
    )
    return Progress(len(ordered), need, 0, None, headlines)


def scored_metrics(params: dict) -> set[str]:
    """The metrics these parameters score (pace is pace_wpm in English, pace_relative in other languages)."""
    return {
        metric
        for group in ("categories", "interpretations")
        for spec in params[group].values()
        for metric in spec["weights"]
    }


def _headline(name: str, spec: dict, current: Session, ordered: list[SessionRecord], params: dict) -> HeadlineProgress:
    personal = params["personal"]
    cfg = personal["progress"]
    label = feedback.progress_label(name, params)
    band = best_band(params["metrics"][name]["curve"]) if spec["better"] == "band" else None
    history = series_of(name, ordered)
    value = current.value(name)

    def unjudged(reason: Text, base: Baseline | None = None) -> HeadlineProgress:
        return HeadlineProgress(
            name,
            label,
            spec["better"],
            value,
            base.centre if base else None,
            None,
            None,
            base.spread if base else None,
            None,
            None,
            base.sessions if base else 0,
            reason,
        )

    if len(history) < cfg["min_sessions"]:
        return unjudged(feedback.headline_too_few(label, len(history), cfg["min_sessions"]))
    base = baseline(
        history, floor=spec["floor"], centre_sessions=cfg["baseline_sessions"], spread_sessions=cfg["spread_sessions"]
    )
    if value is None:
        return unjudged(feedback.headline_not_measured(label), base)
    gain = improvement(value, base.centre, spec["better"], band)
    threshold = personal["spread_multiplier"] * base.spread
    return HeadlineProgress(
        name,
        label,
        spec["better"],
        value,
        base.centre,
        value - base.centre,
        gain,
        base.spread,
        threshold,
        verdict(gain, threshold),
        base.sessions,
        None,
    )


def personal_baseline(metric: str, earlier: Sequence[SessionRecord], params: dict) -> Baseline | None:
    """The subject's own distribution of a metric for personal calibration, once enough sessions measured it."""
    cfg = params["personal"]["calibration"]
    history = series_of(metric, chronological(earlier))
    if len(history) < cfg["min_sessions"]:
        return None
    floor = params["personal"]["metrics"][metric]["floor"]
    return baseline(history, floor=floor, centre_sessions=cfg["sessions"], spread_sessions=cfg["sessions"])
