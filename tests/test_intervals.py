"""models/intervals.py: what is left of intervals once others are cut out, against a fine grid of time points."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from softskills.models.intervals import subtract

interval = st.tuples(st.integers(0, 100), st.integers(1, 20)).map(lambda a: (a[0] / 4, (a[0] + a[1]) / 4))


def disjoint(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covers(intervals, t: np.ndarray) -> np.ndarray:
    return np.any([(a <= t) & (t < b) for a, b in intervals], axis=0) if intervals else np.zeros(len(t), bool)


@given(kept=st.lists(interval, max_size=6).map(disjoint), removed=st.lists(interval, max_size=8))
def test_subtract_keeps_exactly_the_time_outside_the_removed_intervals(kept, removed):
    left = subtract(kept, removed)
    t = np.arange(0, 32, 1 / 8) + 1 / 16  # between the quarter-second edges
    assert np.array_equal(covers(left, t), covers(kept, t) & ~covers(removed, t))
    assert all(a < b for a, b in left) and all(b <= c for (_, b), (c, _) in zip(left, left[1:]))
