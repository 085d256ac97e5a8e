"""FaceLandmarker on a real portrait, and strict parsing of client `mediapipeSamples`."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from softskills.models.errors import InvalidLandmarkSamples
from softskills.models.face.landmarks import FaceLandmarker, face_track_from_samples
from softskills.models.face.metrics import analyze_face

PORTRAIT = Path(__file__).parent.parent / "testkit" / "assets" / "portrait_astronaut.png"
STEP_S = 1 / 8


def portrait_frame(dx: int = 0, angle_deg: float = 0.0) -> np.ndarray:
    """640x360 RGB webcam-like frame: head and shoulders of the portrait centred (face ~150 px tall),
    optionally moved sideways or rotated about the face. (With the whole 512 px portrait squeezed into
    360 px the face is ~90 px tall and MediaPipe's detector misses it at 10-20 deg of roll.)"""
    portrait = cv2.cvtColor(cv2.imread(str(PORTRAIT)), cv2.COLOR_BGR2RGB)
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:, 140:500] = cv2.resize(portrait[0:320, 80:400], (360, 360))
    matrix = cv2.getRotationMatrix2D((320, 150), angle_deg, 1.0)
    matrix[0, 2] += dx
    return cv2.warpAffine(frame, matrix, (640, 360))


def times(n: int) -> np.ndarray:
    return np.arange(n) * STEP_S


@pytest.fixture(scope="module")
def landmarker():
    instance = FaceLandmarker()
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def portrait_track(landmarker):
    return landmarker.landmarks(np.stack([portrait_frame()] * 12), times(12))


def test_frontal_portrait_is_found_and_faces_the_camera(portrait_track):
    assert portrait_track.landmarks.shape == (12, 478, 3)
    assert portrait_track.source == "face_mesh"
    assert (portrait_track.image_width, portrait_track.image_height) == (640, 360)
    assert portrait_track.found.mean() >= 0.9
    metrics = analyze_face(portrait_track)
    assert metrics.face_visible_ratio >= 0.9
    assert abs(metrics.head_yaw_median_deg) <= 15
    assert abs(metrics.head_pitch_median_deg) <= 15
    assert metrics.gaze_source == "iris_and_head_pose"
    assert metrics.eye_contact_ratio >= 0.9
    assert metrics.look_away_intervals == ()
    assert metrics.blink_count == 0


@pytest.mark.parametrize("dx", [-120, 120])
def test_shifted_portrait_still_faces_the_camera(landmarker, dx):
    metrics = analyze_face(landmarker.landmarks(np.stack([portrait_frame(dx=dx)] * 6), times(6)))
    assert metrics.face_visible_ratio == 1.0
    assert abs(metrics.head_yaw_median_deg) <= 15
    assert metrics.eye_contact_ratio >= 0.8


@pytest.mark.parametrize("angle_deg", [-20, 20])
def test_rotated_portrait_reads_as_head_roll(landmarker, portrait_track, angle_deg):
    metrics = analyze_face(landmarker.landmarks(np.stack([portrait_frame(angle_deg=angle_deg)] * 6), times(6)))
    assert metrics.face_visible_ratio == 1.0
    upright_roll = np.nanmedian(analyze_face(portrait_track).roll_deg)
    # cv2 angles are counter-clockwise on screen; roll_deg is clockwise-positive.
    assert np.nanmedian(metrics.roll_deg) - upright_roll == pytest.approx(-angle_deg, abs=5)
    assert abs(metrics.head_yaw_median_deg) <= 15
    assert metrics.eye_contact_ratio >= 0.8


def test_blank_frames_have_no_face_and_no_metrics(landmarker):
    track = landmarker.landmarks(np.zeros((5, 360, 640, 3), np.uint8), times(5))
    assert not track.found.any()
    assert np.isnan(track.landmarks).all()
    metrics = analyze_face(track)
    assert metrics.face_visible_ratio == 0.0
    for key in (
        "eye_contact_ratio",
        "look_away_intervals",
        "blink_count",
        "blink_rate_per_min",
        "head_motion_deg_per_s",
        "smile_ratio",
        "smile_intervals",
        "head_yaw_median_deg",
    ):
        assert getattr(metrics, key) is None, key


def test_missing_face_gives_visible_ratio_and_look_away_interval(landmarker):
    frames = np.stack([portrait_frame()] * 40)
    frames[16:28] = 0  # 1.5 s without a face
    metrics = analyze_face(landmarker.landmarks(frames, times(40)))
    assert metrics.face_visible_ratio == pytest.approx(28 / 40, abs=0.03)
    ((start_s, end_s),) = metrics.look_away_intervals
    assert start_s == pytest.approx(16 * STEP_S, abs=STEP_S + 1e-9)
    assert end_s == pytest.approx(28 * STEP_S, abs=STEP_S + 1e-9)


def test_no_tracking_state_leaks_between_calls(landmarker, portrait_track):
    landmarker.landmarks(np.stack([portrait_frame(dx=150)] * 4), times(4))
    again = landmarker.landmarks(np.stack([portrait_frame()] * 12), times(12))
    np.testing.assert_array_equal(again.landmarks, portrait_track.landmarks)


def test_concurrent_calls_are_serialised(landmarker, portrait_track):
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: landmarker.landmarks(np.stack([portrait_frame()] * 12), times(12)), range(2)))
    for result in results:
        np.testing.assert_array_equal(result.landmarks, portrait_track.landmarks)


def test_rejects_frames_that_are_not_rgb_uint8(landmarker):
    with pytest.raises(ValueError, match="uint8 RGB"):
        landmarker.landmarks(np.zeros((2, 10, 10), np.uint8), times(2))
    with pytest.raises(ValueError, match="frame_times_s"):
        landmarker.landmarks(np.zeros((2, 10, 10, 3), np.uint8), times(3))


def as_samples(track, point_format: str = "list", n_points: int = 478, time_key: str = "timestamp_s") -> str:
    samples = []
    for t, points, found in zip(track.frame_times_s, track.landmarks, track.found):
        rows = points[:n_points].tolist() if found else []
        if point_format == "dict":
            rows = [{"x": x, "y": y, "z": z} for x, y, z in rows]
        value = float(t) * 1000 if time_key in ("timestampMs", "timestamp_ms") else float(t)
        samples.append({time_key: value, "landmarks": rows})
    return json.dumps(samples)


def test_landmarks_round_trip_through_samples_json(portrait_track):
    parsed = face_track_from_samples(as_samples(portrait_track), 640, 360)
    assert parsed.source == "client_samples"
    np.testing.assert_array_equal(parsed.found, portrait_track.found)
    np.testing.assert_array_equal(parsed.landmarks, portrait_track.landmarks)
    np.testing.assert_allclose(parsed.frame_times_s, portrait_track.frame_times_s)
    assert analyze_face(parsed) == analyze_face(portrait_track)  # every summary (the per-frame arrays aside)


@pytest.mark.parametrize("time_key", ["timestamp_s", "t", "timestampMs", "timestamp_ms"])
def test_dict_points_and_every_time_key(portrait_track, time_key):
    parsed = face_track_from_samples(as_samples(portrait_track, "dict", time_key=time_key), 640, 360)
    np.testing.assert_allclose(parsed.frame_times_s, portrait_track.frame_times_s, atol=1e-9)
    np.testing.assert_array_equal(parsed.landmarks, portrait_track.landmarks)


def test_mediapipe_js_face_list_and_empty_faces(portrait_track):
    face = portrait_track.landmarks[1].tolist()
    raw = json.dumps(
        [
            {"timestampMs": 0, "faceLandmarks": [[{"x": x, "y": y, "z": z} for x, y, z in face]]},
            {"timestampMs": 125, "faceLandmarks": []},
            {"timestampMs": 250, "faceLandmarks": [[]]},
            {"timestampMs": 375, "landmarks": []},
        ]
    )
    parsed = face_track_from_samples(raw, 640, 360)
    assert parsed.found.tolist() == [True, False, False, False]
    np.testing.assert_array_equal(parsed.landmarks[0], portrait_track.landmarks[1])
    assert np.isnan(parsed.landmarks[1:]).all()


def test_468_point_samples_pad_irises_with_nan_and_use_head_pose(portrait_track):
    parsed = face_track_from_samples(as_samples(portrait_track, n_points=468), 640, 360)
    assert parsed.landmarks.shape == (12, 478, 3)
    assert np.isnan(parsed.landmarks[:, 468:]).all()
    np.testing.assert_array_equal(parsed.landmarks[:, :468], portrait_track.landmarks[:, :468])
    metrics = analyze_face(parsed)
    assert metrics.gaze_source == "head_pose"
    assert metrics.eye_contact_ratio >= 0.9
    assert metrics.head_yaw_median_deg == analyze_face(portrait_track).head_yaw_median_deg


POINT = [0.5, 0.5, 0.0]


def sample(t=0.0, points=None, **extra):
    return {"t": t, "landmarks": [POINT] * 478 if points is None else points, **extra}


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{not json", "mediapipeSamples is not valid JSON"),
        ('{"t": 0}', "must be a JSON array of samples, got an object"),
        ("[]", "empty array"),
        (json.dumps([1]), "sample 0 must be an object, got a number"),
        (json.dumps([sample(), {"landmarks": []}]), "sample 1 has no time"),
        (json.dumps([{"t": "0", "landmarks": []}]), 'sample 0 has t="0"'),
        (json.dumps([{"timestampMs": -5, "landmarks": []}]), "finite number >= 0"),
        (json.dumps([sample(0.5), sample(0.5)]), "sample 1 has time 0.5 s, not after sample 0"),
        (json.dumps([sample(1.0), sample(0.5)]), "increasing time order"),
        (json.dumps([{"t": 0}]), "sample 0 has no landmarks"),
        (json.dumps([{"t": 0, "landmarks": {"x": 1}}]), "landmarks must be a list, got an object"),
        (json.dumps([sample(points=[POINT] * 300)]), "sample 0 has 300 landmarks; expected 468"),
        (json.dumps([sample(points=[POINT] * 477 + [[0.5, 0.5]])]), "sample 0, point 477: expected [x, y, z]"),
        (
            json.dumps([sample(points=[POINT] * 10 + [[0.5, "a", 0]] + [POINT] * 467)]),
            "sample 0, point 10: x, y and z must be numbers",
        ),
        (
            json.dumps([sample(points=[{"x": 0.5, "y": 0.5, "z": 0}] * 5 + [{"x": 0.5, "y": 0.5}] * 473)]),
            "sample 0, point 5: x, y and z must be numbers",
        ),
        (
            json.dumps([sample(), sample(1, points=[POINT] * 7 + [[0.5, 2.0, 0]] + [POINT] * 470)]),
            "sample 1, point 7: coordinate is outside -0.5..1.5",
        ),
        (
            '[{"t": 0, "landmarks": [[0.5, NaN, 0]' + ", [0.5, 0.5, 0]" * 477 + "]}]",
            "sample 0, point 0: coordinate is not finite",
        ),
    ],
)
def test_invalid_samples_say_what_is_wrong(raw, message):
    with pytest.raises(InvalidLandmarkSamples) as error:
        face_track_from_samples(raw, 640, 360)
    assert message in str(error.value)


def test_sample_count_limit():
    raw = json.dumps([{"t": i, "landmarks": []} for i in range(11)])
    with pytest.raises(InvalidLandmarkSamples, match="more than 10 samples; at most 10"):
        face_track_from_samples(raw, 640, 360, max_samples=10)
    assert len(face_track_from_samples(raw, 640, 360, max_samples=11).found) == 11


def test_too_many_samples_are_refused_before_the_json_is_parsed(monkeypatch):
    """Counted from the text: json.loads is never called on an oversized array."""
    raw = json.dumps([{"timestampMs": i, "faceLandmarks": [[]]} for i in range(30)])
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed before the size check"))
    with pytest.raises(InvalidLandmarkSamples, match="more than 20 samples"):
        face_track_from_samples(raw, 640, 360, max_samples=20)
