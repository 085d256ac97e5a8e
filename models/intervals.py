"""Intervals in time: runs of a per-frame boolean mask, the overlap of two intervals, what is left of some intervals
once others are cut out; and how a time reads. One definition for the voice activity, the face's look-aways, blinks
and smiles, the body's moments, filled pauses and the timelines."""

from __future__ import annotations

import math

import numpy as np


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) frame indices of each run of True, stop exclusive."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def overlap_s(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Length of the overlap of two intervals; 0 when they are apart."""
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


def gap_s(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Time between two intervals; 0 when they overlap."""
    return max(0.0, max(a_start, b_start) - min(a_end, b_end))


def subtract(intervals: list[tuple[float, float]], removed: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of `intervals` (sorted, disjoint) outside every interval of `removed` (any order, may overlap)."""
    removed = sorted(removed)
    kept, first = [], 0
    for start, end in intervals:
        while first < len(removed) and removed[first][1] <= start:
            first += 1
        cursor, i = start, first
        while i < len(removed) and removed[i][0] < end:
            if removed[i][0] > cursor:
                kept.append((cursor, removed[i][0]))
            cursor = max(cursor, removed[i][1])
            i += 1
        if cursor < end:
            kept.append((cursor, end))
    return kept


def timed_runs(
    mask: np.ndarray, times: np.ndarray, step_s: float | None, min_s: float, max_s: float = math.inf
) -> tuple[tuple[float, float], ...]:
    """(start_s, end_s) of each run of True frames; a run ends at the next frame's time (or one frame step
    after the last frame), so a run of k frames at 8 fps lasts k / 8 s."""
    intervals = []
    for start, stop in true_runs(mask):
        end = times[stop] if stop < len(times) else times[stop - 1] + (step_s or 0.0)
        duration = end - times[start]
        if min_s - 1e-6 <= duration <= max_s + 1e-6:
            intervals.append((float(times[start]), float(end)))
    return tuple(intervals)


def clock(seconds: float) -> str:
    """m:ss, as a person reads a time in a video."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
