"""Scores from measured metrics through the versioned rubric in models/interpretation/data/rubric_v1.json.

Each category is the weighted mean of its metrics that have evidence; a category whose evidence covers less than
`min_category_coverage` of its weight is null with a reason rather than a guess. Every score lists the metric
values it used, so a reader can recompute it by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

RUBRIC_PATH = Path(__file__).parent / "data" / "rubric_v1.json"
CATEGORIES = ("likeability", "authenticity", "clarity", "confidence")


@lru_cache(maxsize=4)
def load_rubric(path: str | Path = RUBRIC_PATH) -> dict:
    return json.loads(Path(path).read_text())


def metric_score(name: str, value: float | None, rubric: dict | None = None) -> float | None:
    """Maps a metric value to 0..10 along its rubric curve (flat beyond the ends)."""
    if value is None or not np.isfinite(value):
        return None
    curve = np.asarray((rubric or load_rubric())["metrics"][name]["curve"], dtype=float)
    return float(np.interp(value, curve[:, 0], curve[:, 1]))


@dataclass(frozen=True)
class CategoryScore:
    name: str
    score: float | None  # 0..10, one decimal
    reason: str | None  # why it is null, when it is
    components: tuple[dict, ...]  # {metric, value, score, weight}
    coverage: float  # share of the category's weight that had evidence

    def to_dict(self) -> dict:
        return {"score": self.score, "reason": self.reason, "coverage": round(self.coverage, 2),
                "components": list(self.components)}


def score_categories(metrics: dict[str, float | None], *, observable_only: bool = False,
                     rubric: dict | None = None) -> dict[str, CategoryScore]:
    """All four categories from one flat dict of metric values (missing or None = no evidence)."""
    rubric = rubric or load_rubric()
    scores = {}
    for name in CATEGORIES:
        spec = rubric["categories"][name]
        if observable_only and spec["inferred"]:
            scores[name] = CategoryScore(name, None, "Not computed in observable-only mode: it infers how an "
                                         "audience would judge the person.", (), 0.0)
            continue
        components, missing = [], []
        for metric, weight in spec["weights"].items():
            value = metrics.get(metric)
            score = metric_score(metric, value, rubric)
            if score is None:
                missing.append(rubric["metrics"][metric]["label"])
                continue
            components.append({"metric": metric, "value": _round(value), "score": round(score, 1),
                               "weight": weight})
        coverage = sum(c["weight"] for c in components) / sum(spec["weights"].values())
        if coverage < rubric["min_category_coverage"]:
            scores[name] = CategoryScore(name, None, f"Not enough evidence: no measurement of {', '.join(missing)}.",
                                         tuple(components), coverage)
            continue
        mean = sum(c["score"] * c["weight"] for c in components) / sum(c["weight"] for c in components)
        scores[name] = CategoryScore(name, round(mean, 1), None, tuple(components), coverage)
    return scores


def overall_score(categories: dict[str, CategoryScore], rubric: dict | None = None) -> int | None:
    """0..100: weighted mean of the categories that have a score."""
    weights = (rubric or load_rubric())["overall_weights"]
    scored = [(c.score, weights[name]) for name, c in categories.items() if c.score is not None]
    if not scored:
        return None
    return int(round(10 * sum(s * w for s, w in scored) / sum(w for _, w in scored)))


def _round(value: float) -> float:
    return round(float(value), 3)
