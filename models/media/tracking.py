"""Runs a MediaPipe tracking graph (Face Mesh, Pose) over the ordered frames of one chunk: one loop for every
landmarker, so each only says how a result reads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np


def track_frames(graph, lock: threading.Lock, frames: np.ndarray, frame_times_s: np.ndarray,
                 point_shape: tuple[int, int], read: Callable[[object], list | None]):
    """(times, points, found, width, height) for uint8 RGB frames (N, H, W, 3) in presentation order. The graph is
    reset first, so one video's track never seeds the next, and driven under `lock` (it holds per-stream state).
    `read` turns one result into its points, or None when nothing was found; those rows stay NaN."""
    frames = np.asarray(frames)
    times = np.asarray(frame_times_s, dtype=np.float64)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB (N, H, W, 3), got {frames.dtype} {frames.shape}")
    if times.shape != (frames.shape[0],):
        raise ValueError(f"frame_times_s has shape {times.shape}, expected ({frames.shape[0]},)")
    n, height, width = frames.shape[:3]
    points = np.full((n, *point_shape), np.nan, dtype=np.float32)
    found = np.zeros(n, dtype=bool)
    if n and height and width:
        with lock:
            graph.reset()
            for i in range(n):
                read_points = read(graph.process(np.ascontiguousarray(frames[i])))
                if read_points is not None:
                    points[i] = read_points
                    found[i] = True
    return times, points, found, int(width), int(height)
