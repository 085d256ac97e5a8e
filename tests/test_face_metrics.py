"""analyze_face on tracks built from the portrait's real landmarks, edited to blink, smile, look away and
turn at known frames, so every expected value is known."""

import numpy as np
import pytest

from softskills.models.face.landmarks import FaceLandmarker, FaceTrack
from softskills.models.face.metrics import HEAD_NOISE_DEG_PER_S, analyze_face
from tests.test_face import portrait_frame

W, H, STEP_S, N = 640, 360, 1 / 8, 80


@pytest.fixture(scope="module")
def portrait():
    """One frontal face: (478, 3) normalised landmarks from MediaPipe on the portrait (who smiles)."""
    landmarker = FaceLandmarker()
    track = landmarker.landmarks(np.stack([portrait_frame()] * 3), np.arange(3) * STEP_S)
    landmarker.close()
    assert track.found.all()
    return track.landmarks[-1].astype(np.float64)


def set_mouth(face: np.ndarray, width: float, lift: float) -> np.ndarray:
    """The face with its mouth corners moved to `width` (corner to corner) and `lift` (above the lip centre), both
    in outer-eye-corner spans, as models/face/metrics.py measures them."""
    face = face.copy()
    px = face[:, :2] * (W, H)
    unit = (px[263] - px[33]) / np.linalg.norm(px[263] - px[33])
    down = np.array([-unit[1], unit[0]])
    span = float(np.linalg.norm(px[263] - px[33]))
    centre = (px[61] + px[291]) / 2
    lip = (px[13] + px[14]) / 2
    corner_height = lip - down * lift * span  # corners `lift` spans above the lip centre
    along = np.dot(centre - corner_height, unit)
    mid = corner_height + unit * along
    for point, side in ((61, -1), (291, 1)):
        face[point, :2] = (mid + side * unit * width * span / 2) / (W, H)
    return face


@pytest.fixture(scope="module")
def base(portrait):
    """The portrait's face with a neutral mouth (width 0.53, lift -0.01: the neutral faces of benchmarks/real)."""
    return set_mouth(portrait, 0.53, -0.01)


def test_the_portrait_smiles_and_its_neutral_edit_does_not(portrait, base):
    assert analyze_face(make_track(portrait[None])).smile_ratio == 1.0
    assert analyze_face(make_track(base[None])).smile_ratio == 0.0


def make_track(points: np.ndarray, found: np.ndarray | None = None) -> FaceTrack:
    n = len(points)
    found = np.ones(n, bool) if found is None else found
    points = np.where(found[:, None, None], points, np.nan).astype(np.float32)
    return FaceTrack(np.arange(n) * STEP_S, points, found, W, H, "face_mesh")


def steady(base: np.ndarray, n: int = N, seed: int = 0) -> np.ndarray:
    """n frames of the face with ~0.3 px landmark jitter, like a still person."""
    noise = np.random.default_rng(seed).normal(0, 0.3, (n, 478, 2)) / (W, H)
    frames = np.repeat(base[None], n, axis=0)
    frames[:, :, :2] += noise
    return frames


def eye_span_px(base: np.ndarray) -> float:
    return float(np.hypot((base[263, 0] - base[33, 0]) * W, (base[263, 1] - base[33, 1]) * H))


def close_eyes(frame: np.ndarray) -> None:
    for upper, lower in ((160, 144), (158, 153), (385, 380), (387, 373), (159, 145), (386, 374)):
        frame[upper, 1] = frame[lower, 1] = (frame[upper, 1] + frame[lower, 1]) / 2


def test_steady_frontal_face(base):
    metrics = analyze_face(make_track(steady(base)))
    assert metrics.face_visible_ratio == 1.0
    assert metrics.eye_contact_ratio == 1.0
    assert metrics.look_away_intervals == ()
    assert metrics.blink_count == 0 and metrics.blink_rate_per_min == 0.0
    assert metrics.smile_ratio == 0.0 and metrics.smile_intervals == ()
    assert abs(metrics.head_yaw_median_deg) <= 10
    assert metrics.head_motion_deg_per_s == pytest.approx(0, abs=0.5)  # landmark jitter is not motion


def test_blinks_are_counted_and_long_closures_are_not(base):
    frames = steady(base)
    for i in (10, 30, 31, 50, *range(60, 68)):  # blinks of 1, 2 and 1 frames; a 1 s closure
        close_eyes(frames[i])
    metrics = analyze_face(make_track(frames))
    assert metrics.blink_count == 3
    assert metrics.blink_rate_per_min == pytest.approx(3 / (N * STEP_S / 60))
    assert metrics.ear[10] < 0.1 < 0.25 < metrics.ear[0]


def test_smile_ratio_and_interval(base):
    frames = steady(base)
    frames[40:60] = set_mouth(base, 0.70, 0.06)  # a 2.5 s smile, as measured on the real smiles
    metrics = analyze_face(make_track(frames))
    assert metrics.smile_ratio == pytest.approx(20 / N)
    assert metrics.smile_intervals == ((40 * STEP_S, 60 * STEP_S),)


def test_speech_like_mouth_opening_is_not_a_smile(base):
    frames = steady(base)
    span = eye_span_px(base)
    frames[40:60, (14, 17, 152), 1] += 0.15 * span / H  # jaw drops, corners stay
    assert analyze_face(make_track(frames)).smile_ratio == 0.0


def test_iris_turned_away_is_a_look_away_interval(base):
    frames = steady(base)
    span = eye_span_px(base)
    frames[20:36, 468:478, 0] += 0.06 * span / W  # both irises ~0.2 eye width toward image right
    metrics = analyze_face(make_track(frames))
    assert 20 < metrics.gaze_yaw_deg[25] - metrics.yaw_deg[25] < 50
    assert metrics.eye_contact_ratio == pytest.approx(1 - 16 / N)
    assert metrics.look_away_intervals == ((20 * STEP_S, 36 * STEP_S),)


def test_short_glance_is_not_reported(base):
    frames = steady(base)
    frames[20:24, 468:478, 0] += 0.06 * eye_span_px(base) / W  # 0.5 s
    metrics = analyze_face(make_track(frames))
    assert metrics.eye_contact_ratio == pytest.approx(1 - 4 / N)
    assert metrics.look_away_intervals == ()


def rotate_yaw(base: np.ndarray, deg: float) -> np.ndarray:
    """Turn the face about a vertical axis through its centre using MediaPipe's own depth (z)."""
    px = base * (W, H, W)
    centre = px[:468].mean(axis=0)
    a = np.radians(deg)
    rotation = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    return ((px - centre) @ rotation.T + centre) / (W, H, W)


@pytest.mark.parametrize("deg", [-30, -15, 15, 30])
def test_head_turn_yaw_sign_and_size(base, deg):
    frontal = analyze_face(make_track(base[None])).yaw_deg[0]
    metrics = analyze_face(make_track(rotate_yaw(base, deg)[None]))
    # deg > 0 turns the nose toward the image's right, which is positive yaw.
    assert metrics.yaw_deg[0] - frontal == pytest.approx(deg, abs=6)
    # Eyes turn with the head here, so gaze follows the head (iris parallax removed).
    assert metrics.gaze_yaw_deg[0] - metrics.yaw_deg[0] == pytest.approx(0, abs=4)
    assert bool(metrics.eye_contact[0]) is (abs(deg) < 20)


def test_head_motion_follows_a_steady_turn(base):
    frames = np.stack([rotate_yaw(base, -16 + 2 * i) for i in range(17)])  # 32 deg in 2 s: 16 deg/s
    metrics = analyze_face(make_track(frames))
    # The speed above the tracking-noise floor; the smoothing eases the turn in at its two ends.
    assert metrics.head_motion_deg_per_s == pytest.approx(16 - HEAD_NOISE_DEG_PER_S, abs=2.5)


def test_head_speed_is_timed_so_a_window_reads_its_own_motion(base):
    turning = [rotate_yaw(base, -16 + 2 * i) for i in range(17)]
    metrics = analyze_face(make_track(np.stack(turning + turning[-1:] * 16)))  # a 2 s turn, then 2 s still
    speeds = metrics.head_speed_deg_per_s
    assert np.nanmean(speeds) == pytest.approx(metrics.head_motion_deg_per_s)
    assert np.nanmean(speeds[3:14]) == pytest.approx(16 - HEAD_NOISE_DEG_PER_S, abs=2.5)
    assert np.nanmax(speeds[-8:]) == 0


def test_a_wide_open_mouth_without_lifted_corners_is_not_a_smile(base):
    assert analyze_face(make_track(set_mouth(base, 0.64, -0.02)[None])).smile_ratio == 0.0


def test_face_missing_everywhere_or_no_frames(base):
    none_found = analyze_face(make_track(steady(base, 8), found=np.zeros(8, bool)))
    assert none_found.face_visible_ratio == 0.0
    assert none_found.eye_contact_ratio is None and none_found.blink_count is None
    assert none_found.look_away_intervals is None and none_found.smile_intervals is None
    assert not none_found.eye_contact.any()
    empty = analyze_face(
        FaceTrack(np.zeros(0), np.zeros((0, 478, 3), np.float32), np.zeros(0, bool), 0, 0, "face_mesh")
    )
    assert empty.frames_analyzed == 0 and empty.face_visible_ratio is None


def test_a_face_that_leaves_the_frame_is_a_look_away_and_nan_where_unseen(base):
    found = np.ones(N, bool)
    found[30:45] = False
    metrics = analyze_face(make_track(steady(base), found))
    assert metrics.face_visible_ratio == pytest.approx(65 / N)
    assert metrics.look_away_intervals == ((3.75, 5.625),)
    assert np.isnan(metrics.yaw_deg[30]) and np.isfinite(metrics.yaw_deg[0])
    assert bool(metrics.eye_contact[0]) and not metrics.face_found[30]
