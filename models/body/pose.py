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
            static_image_mode=False,
            model_complexity=SHIPPED_MODEL_COMPLEXITY,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._lock = threading.Lock()

    def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray) -> PoseTrack:
        """Frames: uint8 RGB (N, H, W, 3) in presentation order; frame_times_s: (N,) seconds."""
        def read(result):
            pose = result.pose_landmarks
            return [(p.x, p.y, p.z, p.visibility) for p in pose.landmark] if pose else None

        times, points, found, width, height = track_frames(self._pose, self._lock, frames, frame_times_s,
                                                           (POSE_POINTS, 4), read)
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
            f"sample {i}, pose point {j}: expected {{\"x\", \"y\", \"z\", \"visibility\"}} or [x, y, z, visibility], "
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
