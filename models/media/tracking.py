"""Tracking over the ordered frames of a chunk, two ways: `track_frames` drives MediaPipe's own graph (Face Mesh,
Pose) one frame at a time; `track_chunks` is the same tracking logic written out here, for the wheel's models
converted to run batched on a CPU or a GPU (models/media/landmark_runtime.py), with the calculators it reproduces
below it."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def track_frames(
    graph,
    lock: threading.Lock,
    frames: np.ndarray,
    frame_times_s: np.ndarray,
    point_shape: tuple[int, int],
    read: Callable[[object], list | None],
):
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


# --- MediaPipe's tracking graph written out, for the converted models (models/media/landmark_runtime.py) ---------
# Each function names the MediaPipe calculator it reproduces; the numbers come from the graph configs of
# mediapipe 0.10.21 (mediapipe/modules/{face_detection,face_landmark,pose_detection,pose_landmark}/*.pbtxt).


@dataclass(frozen=True)
class Rect:
    """MediaPipe's NormalizedRect: centre and size as fractions of the image, rotation in radians (clockwise on
    screen, 0 = upright)."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Detection:
    """One detection in normalised image coordinates: box (xmin, ymin, xmax, ymax), key points (K, 2), score."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


@dataclass(frozen=True)
class Crop:
    """What ImageToTensorCalculator made of one region: the model's input and the letterbox padding (left, top,
    right, bottom as fractions of the tensor) that LandmarkLetterboxRemovalCalculator takes off again."""

    tensor: np.ndarray  # float32 (H, W, 3)
    padding: tuple[float, float, float, float]


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def crop_to_tensor(
    frame: np.ndarray,
    rect: Rect,
    size: int,
    *,
    keep_aspect_ratio: bool,
    zero_border: bool,
    value_range: tuple[float, float],
) -> Crop:
    """ImageToTensorCalculator on the CPU: the rotated region, letterboxed when keep_aspect_ratio, warped with
    OpenCV's bilinear perspective warp exactly as MediaPipe calls it (the region's corners onto the tensor's),
    then 0..255 mapped linearly onto value_range."""
    import cv2  # imported here: only landmark replicas crop

    height, width = frame.shape[:2]
    roi_w, roi_h = rect.width * width, rect.height * height
    padding = (0.0, 0.0, 0.0, 0.0)
    if keep_aspect_ratio:
        roi_aspect = roi_h / roi_w
        if roi_aspect < 1.0:
            vertical = (1.0 - roi_aspect) / 2.0
            roi_h = roi_w
            padding = (0.0, vertical, 0.0, vertical)
        else:
            horizontal = (1.0 - 1.0 / roi_aspect) / 2.0
            roi_w = roi_h
            padding = (horizontal, 0.0, horizontal, 0.0)
    box = cv2.boxPoints(
        ((rect.x_center * width, rect.y_center * height), (roi_w, roi_h), rect.rotation * 180.0 / math.pi)
    )
    corners = np.array([[0, size], [0, 0], [size, 0], [size, size]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), corners)
    warped = cv2.warpPerspective(
        frame,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT if zero_border else cv2.BORDER_REPLICATE,
    )
    low, high = value_range
    return Crop(warped.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low), padding)


def ssd_anchors(input_size: int, strides: tuple[int, ...]) -> np.ndarray:
    """SsdAnchorsCalculator with fixed_anchor_size, one aspect ratio and the interpolated scale (both detectors):
    two anchor centres per feature-map cell per layer, layers of equal stride sharing a grid. (A, 2) x, y."""
    centres = []
    layer = 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        cells = math.ceil(input_size / strides[layer])
        per_cell = 2 * (same - layer)
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer = same
    return np.concatenate(centres).astype(np.float32)


def top_detection(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    input_size: int,
    num_keypoints: int,
    min_score: float,
    crop: Crop,
) -> Detection | None:
    """TensorsToDetectionsCalculator (x, y, w, h order; sigmoid of the score clipped to +-100) then the first
    detection that NonMaxSuppressionCalculator's WEIGHTED algorithm (IoU > 0.3) outputs — the only one a
    single-face or single-person graph keeps: the best box averaged, score-weighted, with every box that overlaps
    it. Returned in image coordinates (the letterbox taken off), or None when no score reaches min_score."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)))
    keep = np.flatnonzero(scores >= min_score)
    if not len(keep):
        return None
    raw = raw_boxes.reshape(len(anchors), -1)[keep].astype(np.float64)
    centre = raw[:, 0:2] / input_size + anchors[keep]
    half = raw[:, 2:4] / input_size / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)  # xmin, ymin, xmax, ymax
    keypoints = (
        raw[:, 4 : 4 + 2 * num_keypoints].reshape(len(keep), num_keypoints, 2) / input_size + anchors[keep][:, None, :]
    )
    valid = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
    if not valid.any():
        return None
    boxes, keypoints, scores = boxes[valid], keypoints[valid], scores[keep][valid]
    best = int(np.argmax(scores))
    overlap = _iou(boxes[best], boxes)
    group = overlap > 0.3
    weights = scores[group] / scores[group].sum()
    box = (boxes[group] * weights[:, None]).sum(axis=0)
    points = (keypoints[group] * weights[:, None, None]).sum(axis=0)
    left, top, right, bottom = crop.padding
    scale = np.array([1.0 - left - right, 1.0 - top - bottom])
    offset = np.array([left, top])
    box = np.concatenate([(box[:2] - offset) / scale, (box[2:] - offset) / scale])
    return Detection(box, (points - offset) / scale, float(scores[best]))


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    intersection = width * height
    union = (
        (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - intersection
    )
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def rotation_between(start: np.ndarray, end: np.ndarray, image_size: tuple[int, int], target_degrees: float) -> float:
    """DetectionsToRectsCalculator's rotation: the angle that turns the start -> end key point vector (in pixels)
    to the target angle."""
    width, height = image_size
    dx, dy = (end[0] - start[0]) * width, (end[1] - start[1]) * height
    return normalize_radians(math.radians(target_degrees) - math.atan2(-dy, dx))


def box_rect(box: np.ndarray, rotation: float) -> Rect:
    """DetectionsToRectsCalculator (USE_BOUNDING_BOX): the box's centre and size, with the given rotation."""
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    return Rect((xmin + xmax) / 2, (ymin + ymax) / 2, xmax - xmin, ymax - ymin, rotation)


def alignment_rect(start: np.ndarray, end: np.ndarray, image_size: tuple[int, int], target_degrees: float) -> Rect:
    """AlignmentPointsRectsCalculator: centred on the start point, a square of twice the start-end distance."""
    width, height = image_size
    side = 2.0 * math.hypot((end[0] - start[0]) * width, (end[1] - start[1]) * height)
    return Rect(
        float(start[0]),
        float(start[1]),
        side / width,
        side / height,
        rotation_between(start, end, image_size, target_degrees),
    )


def scaled_square(rect: Rect, image_size: tuple[int, int], scale: float) -> Rect:
    """RectTransformationCalculator with square_long and no shift: the longer side (in pixels) both ways, times
    scale."""
    width, height = image_size
    side = max(rect.width * width, rect.height * height)
    return Rect(rect.x_center, rect.y_center, side / width * scale, side / height * scale, rect.rotation)


def project_landmarks(points: np.ndarray, rect: Rect, padding: tuple[float, float, float, float]) -> np.ndarray:
    """LandmarkLetterboxRemovalCalculator then LandmarkProjectionCalculator (NORM_RECT, as both graphs use it):
    crop-normalised (N, >=3) points back to image-normalised ones; z scales as x. Columns past z are kept."""
    left, top, right, bottom = padding
    out = points.astype(np.float64).copy()
    out[:, 0] = (out[:, 0] - left) / (1.0 - left - right)
    out[:, 1] = (out[:, 1] - top) / (1.0 - top - bottom)
    out[:, 2] = out[:, 2] / (1.0 - left - right)
    x, y = out[:, 0] - 0.5, out[:, 1] - 0.5
    cos, sin = math.cos(rect.rotation), math.sin(rect.rotation)
    out[:, 0] = (cos * x - sin * y) * rect.width + rect.x_center
    out[:, 1] = (sin * x + cos * y) * rect.height + rect.y_center
    out[:, 2] = out[:, 2] * rect.width
    return out


class OneEuroFilter:
    """MediaPipe's OneEuroFilter (mediapipe/util/filtering/one_euro_filter.cc) over an array of values at once:
    the first value passes, later ones are low-passed with a cutoff that rises with the (scaled) speed."""

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float):
        self._min_cutoff, self._beta, self._derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self._last_raw: np.ndarray | None = None
        self._last_value: np.ndarray | None = None
        self._last_derivative: np.ndarray | None = None

    @staticmethod
    def _alpha(cutoff, frequency: float):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * frequency)

    def apply(self, value: np.ndarray, frequency: float, value_scale: float) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._last_raw is None:
            self._last_raw, self._last_value, self._last_derivative = value, value, np.zeros_like(value)
            return value
        derivative = (value - self._last_raw) * value_scale * frequency
        alpha = self._alpha(self._derivate_cutoff, frequency)
        derivative = alpha * derivative + (1 - alpha) * self._last_derivative
        alpha = self._alpha(self._min_cutoff + self._beta * np.abs(derivative), frequency)
        filtered = alpha * value + (1 - alpha) * self._last_value
        self._last_raw, self._last_value, self._last_derivative = value, filtered, derivative
        return filtered


@dataclass
class Stream:
    """One chunk's frames being tracked: where it is, the region carried to its next frame (None: detect), and
    per-stream state the landmarker keeps (the pose's filter)."""

    frames: np.ndarray
    points: np.ndarray
    found: np.ndarray
    rect: Rect | None = None
    state: object = None


def track_chunks(landmarker, chunks: list[tuple[np.ndarray, np.ndarray]], point_shape: tuple[int, int]):
    """MediaPipe's tracking loop over several chunks in lockstep, so that frame t of every chunk goes through each
    network in one batch: a chunk without a region (its first frame, or after a loss) is detected first; every
    chunk with a region gets landmarks, and the landmarks give the region of its next frame. Each chunk starts
    fresh, as the graph reset does. `landmarker` provides detect(frames) -> [Rect | None],
    landmarks_in(frames, rects, states) -> [(points | None, next Rect | None)] and new_state().
    Returns, per chunk, (times, points, found, width, height) like track_frames."""
    streams, results = [], []
    for frames, frame_times_s in chunks:
        frames = np.asarray(frames)
        times = np.asarray(frame_times_s, dtype=np.float64)
        if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 RGB (N, H, W, 3), got {frames.dtype} {frames.shape}")
        if times.shape != (frames.shape[0],):
            raise ValueError(f"frame_times_s has shape {times.shape}, expected ({frames.shape[0]},)")
        n = frames.shape[0]
        stream = Stream(
            frames,
            np.full((n, *point_shape), np.nan, dtype=np.float32),
            np.zeros(n, dtype=bool),
            state=landmarker.new_state(),
        )
        streams.append(stream)
        results.append((times, stream.points, stream.found, int(frames.shape[2]), int(frames.shape[1])))
    usable = [s for s in streams if s.frames.shape[1] and s.frames.shape[2]]
    for t in range(max((len(s.frames) for s in usable), default=0)):
        active = [s for s in usable if t < len(s.frames)]
        lost = [s for s in active if s.rect is None]
        if lost:
            for stream, rect in zip(lost, landmarker.detect([s.frames[t] for s in lost])):
                stream.rect = rect
        tracked = [s for s in active if s.rect is not None]
        if not tracked:
            continue
        outputs = landmarker.landmarks_in(
            [s.frames[t] for s in tracked], [s.rect for s in tracked], [s.state for s in tracked]
        )
        for stream, (points, next_rect) in zip(tracked, outputs):
            if points is not None:
                stream.points[t] = points
                stream.found[t] = True
            stream.rect = next_rect
    return results
