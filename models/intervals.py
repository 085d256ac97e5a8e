"""Intervals in time: runs of a per-frame boolean mask, and the overlap of two intervals. One definition for the
voice activity, the face's look-aways, blinks and smiles, filled pauses and the timelines."""

from __future__ import annotations

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
