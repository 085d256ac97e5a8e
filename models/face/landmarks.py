"""Face landmarks per sampled video frame: MediaPipe Face Mesh on the server, or samples the client already
computed (the `mediapipeSamples` form field), both as one `FaceTrack` that `models.face.metrics` reads."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import threading
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from softskills.models.errors import InvalidLandmarkSamples
from softskills.models.media.tracking import track_frames

MESH_POINTS = 468
"""Face Mesh points without irises (MediaPipe's `refine_landmarks=False`, some JS configurations)."""
LANDMARK_POINTS = 478
"""Face Mesh points with irises: 468 mesh points + 5 per iris (468 = right iris centre, 473 = left)."""
MAX_SAMPLES = 20_000
"""Default cap on client samples: 30 fps x 11 minutes, or 8 fps x 40 minutes."""
COORD_MIN, COORD_MAX = -0.5, 1.5
"""Normalised coordinates just outside [0, 1] are legitimate (a face cut by the frame edge); beyond this
margin they are garbage, not a face."""

_SECONDS_KEYS = ("timestamp_s", "t")
_MILLISECONDS_KEYS = ("timestampMs", "timestamp_ms")
_LANDMARK_KEYS = ("landmarks", "faceLandmarks")

Track = TypeVar("Track")


@dataclass(frozen=True)
class FaceTrack:
    """Landmarks of the (single) face per frame, in MediaPipe's normalised coordinates: x / image width,
    y / image height, z depth on the scale of x. Rows where no face was found are NaN."""

    frame_times_s: np.ndarray  # float64 (N,)
    landmarks: np.ndarray  # float32 (N, 478, 3); iris rows 468..477 NaN for 468-point client samples
    found: np.ndarray  # bool (N,)
    image_width: int
    image_height: int
    source: str  # "face_mesh" | "client_samples"


class FaceLandmarker:
    """MediaPipe Face Mesh (478 points with irises) in tracking mode over the ordered frames of one video.

    Tracking reuses the previous frame's face region, so consecutive frames cost ~5 ms instead of a full
    detection. The graph is reset at the start of every call so one video's track never seeds the next
    (reset is ~2 ms; measured against building a new FaceMesh, ~10 ms). A lock serialises calls because
    the graph holds per-stream state and is not safe to drive from two threads at once."""

    def __init__(self, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        import mediapipe as mp  # imported here: ~0.5 s and a C++ runtime that only face replicas need

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._lock = threading.Lock()

    def landmarks(self, frames: np.ndarray, frame_times_s: np.ndarray) -> FaceTrack:
        """Frames: uint8 RGB (N, H, W, 3) in presentation order; frame_times_s: (N,) seconds."""

        def read(result):
            faces = result.multi_face_landmarks
            return [(p.x, p.y, p.z) for p in faces[0].landmark] if faces else None

        times, points, found, width, height = track_frames(
            self._mesh, self._lock, frames, frame_times_s, (LANDMARK_POINTS, 3), read
        )
        return FaceTrack(times, points, found, width, height, "face_mesh")

    def close(self) -> None:
        with self._lock:
            self._mesh.close()


_SAMPLE_TIME_KEY = re.compile(r'"(?:timestamp_s|t|timestampMs|timestamp_ms)"\s*:')


def check_sample_count(raw_json: str | bytes, max_samples: int) -> None:
    """Counts the samples by their time keys before the JSON is parsed, so that an oversized array costs a scan of
    its text, not the Python objects of a full parse (each sample has exactly one time)."""
    text = raw_json.decode("utf-8", "replace") if isinstance(raw_json, bytes) else raw_json
    count = 0
    for count, _ in enumerate(_SAMPLE_TIME_KEY.finditer(text), start=1):
        if count > max_samples:
            raise InvalidLandmarkSamples(
                f"mediapipeSamples has more than {max_samples} samples; at most {max_samples} are accepted"
            )


def parse_samples(samples: str | bytes | list, max_samples: int = MAX_SAMPLES) -> list:
    """The `mediapipeSamples` field as a list of samples: counted by their time keys before the JSON is parsed
    (an oversized array costs a scan of its text, not the Python objects of a full parse), then parsed once for
    the face and the pose. A list is taken as already parsed."""
    if isinstance(samples, (str, bytes)):
        check_sample_count(samples, max_samples)
        try:
            samples = json.loads(samples)
        except (ValueError, RecursionError) as error:
            detail = getattr(error, "msg", None) or "nested too deeply"
            raise InvalidLandmarkSamples(f"mediapipeSamples is not valid JSON: {detail}") from None
    if not isinstance(samples, list):
        raise InvalidLandmarkSamples(f"mediapipeSamples must be a JSON array of samples, got {_json_type(samples)}")
    if not samples:
        raise InvalidLandmarkSamples("mediapipeSamples is an empty array; send at least one sample or omit it")
    if len(samples) > max_samples:
        raise InvalidLandmarkSamples(f"mediapipeSamples has {len(samples)} samples; at most {max_samples} are accepted")
    return samples


def read_samples(
    samples: list, point_shape: tuple[int, int], sample_points
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, points, found) of parsed client samples, for the face and the pose alike: every sample an object
    with a time, in strictly increasing order; `sample_points(i, sample)` reads one sample's points (None: nothing
    in it). Raises InvalidLandmarkSamples naming the sample."""
    n = len(samples)
    times = np.empty(n, dtype=np.float64)
    points = np.full((n, *point_shape), np.nan, dtype=np.float32)
    found = np.zeros(n, dtype=bool)
    for i, sample in enumerate(samples):
        if not isinstance(sample, dict):
            raise InvalidLandmarkSamples(f"sample {i} must be an object, got {_json_type(sample)}")
        times[i] = _sample_time_s(i, sample)
        if i and times[i] <= times[i - 1]:
            raise InvalidLandmarkSamples(
                f"sample {i} has time {times[i]:g} s, not after sample {i - 1} ({times[i - 1]:g} s); "
                "samples must be in strictly increasing time order"
            )
        read = sample_points(i, sample)
        if read is not None:
            points[i, : len(read)] = read
            found[i] = True
    return times, points, found


def face_track_from_samples(
    samples: str | bytes | list, image_width: int, image_height: int, *, max_samples: int = MAX_SAMPLES
) -> FaceTrack:
    """Parse the `mediapipeSamples` field (raw, or the list parse_samples made): a JSON array of samples, each
    `{"timestamp_s" | "t": seconds  or  "timestampMs" | "timestamp_ms": milliseconds,
      "landmarks" | "faceLandmarks": [[x, y, z] | {"x", "y", "z"}, ...]}`
    with 468 or 478 normalised points, or MediaPipe JS's list of faces (the first face is used);
    an empty list means no face in that sample. 468-point samples have no irises: their iris rows are
    NaN and eye contact falls back to head pose alone. Raises InvalidLandmarkSamples saying what is wrong."""
    if image_width <= 0 or image_height <= 0:
        raise ValueError(f"image size must be positive, got {image_width}x{image_height}")
    samples = parse_samples(samples, max_samples)
    times, points, found = read_samples(samples, (LANDMARK_POINTS, 3), _sample_points)
    return FaceTrack(times, points, found, int(image_width), int(image_height), "client_samples")


def _sample_time_s(i: int, sample: dict) -> float:
    for keys, scale in ((_SECONDS_KEYS, 1.0), (_MILLISECONDS_KEYS, 1e-3)):
        for key in keys:
            if key in sample:
                value = sample[key]
                if not _is_number(value) or not math.isfinite(value) or value < 0:
                    raise InvalidLandmarkSamples(
                        f"sample {i} has {key}={json.dumps(value)[:40]}; it must be a finite number >= 0"
                    )
                return float(value) * scale
    raise InvalidLandmarkSamples(
        f"sample {i} has no time: give timestamp_s or t (seconds), or timestampMs or timestamp_ms (ms)"
    )


def _sample_points(i: int, sample: dict) -> np.ndarray | None:
    """The sample's first face as float64 (468 | 478, 3), or None when it has no face."""
    key = next((k for k in _LANDMARK_KEYS if k in sample), None)
    if key is None:
        raise InvalidLandmarkSamples(f"sample {i} has no landmarks (or faceLandmarks) list")
    face = sample[key]
    if not isinstance(face, list):
        raise InvalidLandmarkSamples(f"sample {i}: {key} must be a list, got {_json_type(face)}")
    if face and isinstance(face[0], list) and (not face[0] or isinstance(face[0][0], (list, dict))):
        face = face[0]  # MediaPipe JS: a list of faces, each a list of points
    if not face:
        return None
    if len(face) not in (MESH_POINTS, LANDMARK_POINTS):
        raise InvalidLandmarkSamples(
            f"sample {i} has {len(face)} landmarks; expected {MESH_POINTS} (without irises) "
            f"or {LANDMARK_POINTS} (with irises)"
        )
    try:
        rows = [(p["x"], p["y"], p["z"]) for p in face] if isinstance(face[0], dict) else face
        array = np.array(rows)
        if array.shape != (len(face), 3) or array.dtype.kind not in "fi":
            raise ValueError
    except (KeyError, TypeError, ValueError):
        j, problem = _first_bad_point(face)
        raise InvalidLandmarkSamples(f"sample {i}, point {j}: {problem}") from None
    array = array.astype(np.float64)
    finite = np.isfinite(array).all(axis=1)
    in_range = finite & ((array >= COORD_MIN) & (array <= COORD_MAX)).all(axis=1)
    if not in_range.all():
        j = int(np.argmin(in_range))
        what = "is not finite" if not finite[j] else f"is outside {COORD_MIN}..{COORD_MAX}"
        raise InvalidLandmarkSamples(
            f"sample {i}, point {j}: coordinate {what} (landmarks must be normalised to the image, 0..1)"
        )
    return array


def _first_bad_point(face: list) -> tuple[int, str]:
    for j, p in enumerate(face):
        if isinstance(p, dict):
            values = [p.get(axis) for axis in "xyz"]
        elif isinstance(p, list) and len(p) == 3:
            values = p
        else:
            return j, f'expected [x, y, z] or {{"x", "y", "z"}}, got {json.dumps(p)[:60]}'
        if not all(_is_number(v) for v in values):
            return j, f"x, y and z must be numbers, got {json.dumps(p)[:60]}"
    return 0, 'points must all use the same shape, [x, y, z] or {"x", "y", "z"}'


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def concatenate_tracks(tracks: list[Track]) -> Track:
    """Joins the tracks of consecutive frame chunks (the ingress fans chunks out across replicas) in time order;
    works for any track with frame_times_s, landmarks and found (FaceTrack, models.body.pose.PoseTrack)."""
    ordered = sorted(tracks, key=lambda t: t.frame_times_s[0] if len(t.frame_times_s) else np.inf)
    return dataclasses.replace(
        ordered[0],
        frame_times_s=np.concatenate([t.frame_times_s for t in ordered]),
        landmarks=np.concatenate([t.landmarks for t in ordered]),
        found=np.concatenate([t.found for t in ordered]),
    )
