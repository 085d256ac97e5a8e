"""Body landmarks per sampled video frame: MediaPipe Pose on the server, or the `poseLandmarks` the client already
computed (in the `mediapipeSamples` form field), both as one `PoseTrack` that `models.body.metrics` reads.

Only the weights the mediapipe wheel ships are used: 0.10.21 ships `pose_landmark_full.tflite`
(model_complexity=1) and `pose_detection.tflite`; the lite (0) and heavy (2) landmark models are downloaded from
a model hub on first use, which this service never does, so the complexity is fixed at 1 and checked."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from softskills.models.errors import InvalidLandmarkSamples
from softskills.models.face.landmarks import _is_number, _json_type, parse_samples, read_samples
from softskills.models.media.tracking import track_frames

POSE_POINTS = 33
"""BlazePose topology: 0 nose, 1-6 eyes, 7-8 ears, 9-10 mouth, 11-12 shoulders, 13-14 elbows, 15-16 wrists,
17-22 hand points, 23-24 hips, 25-32 legs and feet. Odd = the person's left (the image's right, unmirrored)."""
MAX_SAMPLES = 20_000
"""Same cap as the face samples: 30 fps x 11 minutes, or 8 fps x 40 minutes."""
COORD_MIN, COORD_MAX = -5.0, 6.0
"""Pose landmarks outside the image are extrapolated, not dropped: on a head-and-shoulders webcam frame the hips
sit at y ~ 2.5. Beyond this margin the numbers are garbage, not a body."""
DEPTH_MAX = 10.0
"""|z| bound, on the scale of x (depth relative to the hips; the hips are far from a webcam close-up)."""
SHIPPED_MODEL_COMPLEXITY = 1

MEDIAPIPE_POSE_SETTINGS = {
    "static_image_mode": False,
    "model_complexity": SHIPPED_MODEL_COMPLEXITY,
    "smooth_landmarks": False,
    "enable_segmentation": False,
}
"""How `PoseLandmarker` builds mp.solutions.pose.Pose (benchmarks/landmark_equivalence.py builds the same graph)."""

_POSE_KEYS = ("poseLandmarks", "pose_landmarks")


@dataclass(frozen=True)
class PoseTrack:
    """Landmarks of the (single, most prominent) person per frame, in MediaPipe's normalised coordinates:
    x / image width, y / image height, z depth on the scale of x, and visibility (0..1, the model's estimate that
    the point is in the image and not occluded; NaN when a client sample left it out). Rows without a person
    are NaN."""

    frame_times_s: np.ndarray  # float64 (N,)
    landmarks: np.ndarray  # float32 (N, 33, 4): x, y, z, visibility
    found: np.ndarray  # bool (N,)
    image_width: int
    image_height: int
    source: str  # "mediapipe_pose" | "client_samples"


def shipped_pose_model() -> Path:
    """The landmark model this service uses; raises if the wheel does not carry it (mediapipe would otherwise
    try to fetch a model at run time)."""
    import mediapipe as mp

    path = Path(mp.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_full.tflite"
    if not path.is_file():
        raise RuntimeError(f"mediapipe {mp.__version__} does not ship {path.name}; pose needs the shipped model")
    return path


class PoseLandmarker:
    """MediaPipe Pose (BlazePose GHUM full, 33 points) in tracking mode over the ordered frames of one video.

    As with `FaceLandmarker`, tracking reuses the previous frame's body region, the graph is reset at the start
    of every call so one video's track never seeds the next, and a lock serialises calls (the graph holds
    per-stream state). MediaPipe's landmark smoothing is off: its velocity filter damps small fast motion, which is
    what fidgeting is (a built 2.5 Hz, 4 px oscillation of a real frame read 3x smaller with it, and the damping
    depends on the amplitude); the metrics take medians and majority votes over frames instead, and
    benchmarks/body_accuracy.py measures the unsmoothed noise floor."""

    def __init__(self, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        import mediapipe as mp  # imported here: ~0.5 s and a C++ runtime that only landmark replicas need

        shipped_pose_model()
        self._pose = mp.solutions.pose.Pose(
            **MEDIAPIPE_POSE_SETTINGS,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._lock = threading.Lock()

    def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray) -> PoseTrack:
        """Frames: uint8 RGB (N, H, W, 3) in presentation order; frame_times_s: (N,) seconds."""

        def read(result):
            pose = result.pose_landmarks
            return [(p.x, p.y, p.z, p.visibility) for p in pose.landmark] if pose else None

        times, points, found, width, height = track_frames(
            self._pose, self._lock, frames, frame_times_s, (POSE_POINTS, 4), read
        )
        return PoseTrack(times, points, found, width, height, "mediapipe_pose")

    def close(self) -> None:
        with self._lock:
            self._pose.close()


def has_pose_samples(samples: list) -> bool:
    """Whether any parsed sample carries a pose (else the client sent face landmarks only)."""
    return any(isinstance(s, dict) and any(k in s for k in _POSE_KEYS) for s in samples)


def pose_track_from_samples(
    samples: str | bytes | list,
    image_width: int,
    image_height: int,
    *,
    max_samples: int = MAX_SAMPLES,
) -> PoseTrack | None:
    """Read the pose from the `mediapipeSamples` field: the same JSON array of samples as the face
    (`models.face.face_track_from_samples`, same time keys), each sample optionally carrying
    `"poseLandmarks" | "pose_landmarks": [{"x", "y", "z", "visibility"} | [x, y, z(, visibility)], ...]` with 33
    normalised points, or MediaPipe Tasks' list of poses (the first pose is used). An empty list or a missing key
    in a sample means no person in that sample; None when no sample carries the key at all (the client sent face
    landmarks only). `samples` may be the raw field or the array the caller already parsed. Raises
    InvalidLandmarkSamples saying which sample is wrong and how."""
    if image_width <= 0 or image_height <= 0:
        raise ValueError(f"image size must be positive, got {image_width}x{image_height}")
    samples = parse_samples(samples, max_samples)
    if not has_pose_samples(samples):
        return None
    times, points, found = read_samples(samples, (POSE_POINTS, 4), _sample_pose)
    return PoseTrack(times, points, found, int(image_width), int(image_height), "client_samples")


def _sample_pose(i: int, sample: dict) -> np.ndarray | None:
    """The sample's first pose as float64 (33, 4) with NaN visibility where the client sent none, or None."""
    key = next((k for k in _POSE_KEYS if k in sample), None)
    if key is None:
        return None
    body = sample[key]
    if body is None:
        return None
    if not isinstance(body, list):
        raise InvalidLandmarkSamples(f"sample {i}: {key} must be a list, got {_json_type(body)}")
    if body and isinstance(body[0], list) and (not body[0] or isinstance(body[0][0], (list, dict))):
        body = body[0]  # MediaPipe Tasks JS: a list of poses, each a list of points
    if not body:
        return None
    if len(body) != POSE_POINTS:
        raise InvalidLandmarkSamples(f"sample {i} has {len(body)} pose landmarks; expected {POSE_POINTS}")
    array = np.full((POSE_POINTS, 4), np.nan)
    for j, point in enumerate(body):
        array[j] = _point(i, j, point)
    return array


def _point(i: int, j: int, point: object) -> tuple[float, float, float, float]:
    if isinstance(point, dict):
        values = [point.get(axis) for axis in "xyz"] + [point.get("visibility", math.nan)]
    elif isinstance(point, list) and len(point) in (3, 4):
        values = list(point) + [math.nan] * (4 - len(point))
    else:
        raise InvalidLandmarkSamples(
            f'sample {i}, pose point {j}: expected {{"x", "y", "z", "visibility"}} or [x, y, z, visibility], '
            f"got {json.dumps(point)[:60]}"
        )
    if not all(_is_number(v) for v in values):
        raise InvalidLandmarkSamples(
            f"sample {i}, pose point {j}: x, y, z and visibility must be numbers, got {json.dumps(point)[:60]}"
        )
    x, y, z, visibility = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x, y, z)):
        raise InvalidLandmarkSamples(f"sample {i}, pose point {j}: coordinate is not finite")
    if not (COORD_MIN <= x <= COORD_MAX and COORD_MIN <= y <= COORD_MAX and abs(z) <= DEPTH_MAX):
        raise InvalidLandmarkSamples(
            f"sample {i}, pose point {j}: coordinate is outside {COORD_MIN}..{COORD_MAX} (|z| <= {DEPTH_MAX}); "
            "landmarks must be normalised to the image"
        )
    if not math.isnan(visibility) and not 0.0 <= visibility <= 1.0:
        raise InvalidLandmarkSamples(f"sample {i}, pose point {j}: visibility {visibility:g} is outside 0..1")
    return x, y, z, visibility


POSE_DETECTOR_STRIDES = (8, 16, 32, 32, 32)
"""pose_detection_cpu.pbtxt: 2254 anchors over a 224 x 224 letterboxed image."""
POSE_DETECTOR_KEYPOINTS = 4
POSE_ROI_SCALE = 1.25
"""pose_detection_to_roi.pbtxt and pose_landmarks_to_roi.pbtxt: a square 1.25x the body's alignment circle, centred
on the hips, rotated so the hips -> shoulders line points up."""
MODEL_POINTS = 39
"""The landmark model's points: the 33 body points, then two auxiliary points that give the next region."""
HEATMAP_KERNEL = 9
"""RefineLandmarksFromHeatmapCalculator's window as MediaPipe's Python Pose runs it. The graph config says 7, but
the Python solution hands its expanded graph to the C++ as text (mediapipe/python/pybind/calculator_graph.cc
parses `str(config)`), and Python's protobuf prints options whose extension it does not know as empty, so the
calculator runs with its proto's default, 9. Measured: 9 reproduces the refined points of MediaPipe's Pose graph
to 5e-7 of the crop on every tracked frame of two real clips; 7 (what a C++ graph runs) leaves 3e-3, which moves
the next region by ~1% (docs/benchmarks.md)."""
HEATMAP_MIN_CONFIDENCE = 0.5
SIMULATED_FRAME_S = 33333e-6
"""MediaPipe's Python solutions stamp the n-th frame since reset at n x 33333 us whatever the video's rate; the
auxiliary-point filter's frequency follows those stamps."""
AUX_FILTER = {"min_cutoff": 0.01, "beta": 10.0, "derivate_cutoff": 1.0}
"""pose_landmark_filtering.pbtxt: the one-euro filter on the auxiliary points, on even with smooth_landmarks off."""


class _PoseStream:
    """Per-chunk state: the auxiliary points' filter (None: starts fresh, as after a reset or a loss)."""

    def __init__(self):
        self.aux_filter = None


class BatchedPoseLandmarker:
    """MediaPipe Pose (full model, smoothing off) on the converted models (models/media/landmark_runtime.py):
    pose_landmark_cpu.pbtxt written out, frame t of every chunk in one batch per network. Stateless between calls,
    like BatchedFaceLandmarker; the same `PoseTrack` as `PoseLandmarker`."""

    def __init__(
        self,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        device: str = "auto",
        cpu_threads: int = 1,
    ):
        from softskills.models.media.landmark_runtime import (
            POSE_DETECTOR,
            POSE_LANDMARKS,
            LandmarkNetwork,
            choose_device,
        )
        from softskills.models.media.tracking import ssd_anchors

        self.device = choose_device(device)
        self._detector = LandmarkNetwork(POSE_DETECTOR, self.device, cpu_threads)
        self._model = LandmarkNetwork(POSE_LANDMARKS, self.device, cpu_threads)
        self._anchors = ssd_anchors(POSE_DETECTOR.input_size, POSE_DETECTOR_STRIDES)
        self._min_detection = min_detection_confidence
        self._min_tracking = min_tracking_confidence

    def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray) -> PoseTrack:
        """Frames: uint8 RGB (N, H, W, 3) in presentation order; frame_times_s: (N,) seconds."""
        return self.landmarks_many([(frames, frame_times_s)])[0]

    def landmarks_many(self, chunks: list[tuple[np.ndarray, np.ndarray]]) -> list[PoseTrack]:
        from softskills.models.media.tracking import track_chunks

        tracks = track_chunks(self, chunks, (POSE_POINTS, 4))
        return [
            PoseTrack(times, points, found, width, height, "mediapipe_pose")
            for times, points, found, width, height in tracks
        ]

    def new_state(self) -> _PoseStream:
        return _PoseStream()

    def detect(self, frames: list[np.ndarray]) -> list:
        from softskills.models.media.tracking import Rect, alignment_rect, crop_to_tensor, scaled_square, top_detection

        size = self._detector.model.input_size
        crops = [
            crop_to_tensor(
                f, Rect(0.5, 0.5, 1.0, 1.0), size, keep_aspect_ratio=True, zero_border=True, value_range=(-1.0, 1.0)
            )
            for f in frames
        ]
        boxes, scores = self._detector.run(np.stack([c.tensor for c in crops]))
        rects = []
        for frame, crop, raw_boxes, raw_scores in zip(frames, crops, boxes, scores):
            detection = top_detection(
                raw_boxes, raw_scores, self._anchors, size, POSE_DETECTOR_KEYPOINTS, self._min_detection, crop
            )
            image_size = (frame.shape[1], frame.shape[0])
            rects.append(
                None
                if detection is None
                else scaled_square(
                    alignment_rect(detection.keypoints[0], detection.keypoints[1], image_size, 90.0),
                    image_size,
                    POSE_ROI_SCALE,
                )
            )
        return rects

    def landmarks_in(self, frames: list[np.ndarray], rects: list, states: list[_PoseStream]) -> list:
        """(points (33, 4) | None, next region | None) per frame."""
        from softskills.models.media.tracking import crop_to_tensor, project_landmarks

        size = self._model.model.input_size
        crops = [
            crop_to_tensor(f, r, size, keep_aspect_ratio=True, zero_border=False, value_range=(0.0, 1.0))
            for f, r in zip(frames, rects)
        ]
        raw_points, flags, heatmaps = self._model.run(np.stack([c.tensor for c in crops]))
        results = []
        for i, (frame, rect, crop, state) in enumerate(zip(frames, rects, crops, states)):
            if not float(flags[i].reshape(-1)[0]) > self._min_tracking:
                state.aux_filter = None
                results.append((None, None))
                continue
            raw = raw_points[i].reshape(MODEL_POINTS, 5).astype(np.float64)
            points = np.empty((MODEL_POINTS, 4))
            points[:, :3] = raw[:, :3] / size
            points[:, 3] = 1.0 / (1.0 + np.exp(-raw[:, 3]))
            points[:, :2] = refine_from_heatmap(points[:, :2], heatmaps[i])
            points = project_landmarks(points, rect, crop.padding)
            results.append(
                (
                    points[:POSE_POINTS].astype(np.float32),
                    self._next_region(points[POSE_POINTS:], (frame.shape[1], frame.shape[0]), state),
                )
            )
        return results

    @staticmethod
    def _next_region(aux: np.ndarray, image_size: tuple[int, int], state: _PoseStream):
        """PoseLandmarkFiltering's auxiliary-point one-euro filter (in pixels, speed scaled by the unfiltered
        points' alignment square), then PoseLandmarksToRoi."""
        from softskills.models.media.tracking import OneEuroFilter, alignment_rect, scaled_square

        width, height = image_size
        object_scale = alignment_rect(aux[0], aux[1], image_size, 90.0).width * width
        pixels = aux[:, :3] * np.array([width, height, width])
        if state.aux_filter is None:
            state.aux_filter = OneEuroFilter(**AUX_FILTER)
        if object_scale >= 1e-6:
            pixels = state.aux_filter.apply(pixels, 1.0 / SIMULATED_FRAME_S, 1.0 / object_scale)
        filtered = pixels / np.array([width, height, width])
        return scaled_square(alignment_rect(filtered[0], filtered[1], image_size, 90.0), image_size, POSE_ROI_SCALE)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """RefineLandmarksFromHeatmapCalculator, all points at once: each crop-normalised point moves to the
    confidence-weighted mean (sigmoid of the heatmap) of the 9 x 9 cells around it, the window cut at the heatmap's
    edges, when the most confident cell reaches 0.5. As the C++ decides which points to skip, the row is checked
    against 0 only (its upper bound compares the column with the height), so a point up to 4 rows below the heatmap
    is refined from the rows the window still covers."""
    heatmap = heatmap.reshape(heatmap.shape[-3:])
    rows, cols, channels = heatmap.shape
    if len(points) != channels:
        raise ValueError(f"{len(points)} points for a heatmap of {channels} channels")
    half = (HEATMAP_KERNEL - 1) // 2
    # int(x * width) truncates toward zero, as the C++ cast does; the clip only keeps huge values castable
    centre_col = np.trunc(np.clip(np.nan_to_num(points[:, 0] * cols, nan=-1.0), -cols - 1, 2 * cols)).astype(int)
    centre_row = np.trunc(np.clip(np.nan_to_num(points[:, 1] * rows, nan=-1.0), -rows - 1, 2 * rows)).astype(int)
    considered = (centre_col >= 0) & (centre_col < cols) & (centre_row >= 0) & (centre_col < rows)
    offsets = np.arange(-half, half + 1)
    window_rows = centre_row[:, None] + offsets  # (K, kernel)
    window_cols = centre_col[:, None] + offsets
    inside = ((window_rows >= 0) & (window_rows < rows))[:, :, None] & ((window_cols >= 0) & (window_cols < cols))[
        :, None, :
    ]
    logits = heatmap[
        np.clip(window_rows, 0, rows - 1)[:, :, None],
        np.clip(window_cols, 0, cols - 1)[:, None, :],
        np.arange(channels)[:, None, None],
    ]
    logits = np.clip(logits.astype(np.float64), -100.0, 100.0)  # sigmoid's tails are 0 and 1 in float32 either way
    confidence = np.where(inside, 1.0 / (1.0 + np.exp(-logits)), 0.0)
    total = confidence.sum(axis=(1, 2))
    refined = considered & (confidence.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    out = points.copy()
    safe_total = np.where(refined, total, 1.0)
    out[refined, 0] = ((confidence * window_cols[:, None, :]).sum(axis=(1, 2)) / cols / safe_total)[refined]
    out[refined, 1] = ((confidence * window_rows[:, :, None]).sum(axis=(1, 2)) / rows / safe_total)[refined]
    return out
