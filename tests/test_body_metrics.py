"""Body metrics on synthetic landmark tracks with known geometry: every value is set by construction."""

import math

import numpy as np
import pytest

from softskills.models.body.metrics import BodyMoment, analyze_body
from softskills.models.body.pose import POSE_POINTS, PoseTrack

WIDTH, HEIGHT = 640, 480
FPS = 8.0
# An upright person facing the camera, normalised coordinates: shoulders 0.3 of the width apart (192 px), eyes
# 150 px above the shoulder line (0.78 shoulder widths), wrists below the frame.
UPRIGHT = {
    0: (0.5, 0.36),
    2: (0.47, 0.33),
    5: (0.53, 0.33),
    7: (0.44, 0.35),
    8: (0.56, 0.35),
    9: (0.48, 0.42),
    10: (0.52, 0.42),
    11: (0.65, 0.6425),
    12: (0.35, 0.6425),
    15: (0.7, 1.3),
    16: (0.3, 1.3),
}
SHOULDER_WIDTH_PX = 0.3 * WIDTH


def body_frames(n: int) -> np.ndarray:
    """(n, 33, 4): the upright pose in every frame; points not in UPRIGHT sit at the shoulders' centre, hidden."""
    points = np.zeros((POSE_POINTS, 4))
    points[:, :2] = (0.5, 0.6425)
    for index, (x, y) in UPRIGHT.items():
        points[index] = (x, y, 0.0, 1.0)
    points[15:17, 3] = 0.05  # wrists out of view
    return np.repeat(points[None], n, axis=0)


def track(landmarks: np.ndarray, fps: float = FPS, found: np.ndarray | None = None) -> PoseTrack:
    n = len(landmarks)
    if found is None:
        found = np.ones(n, bool)
    landmarks = landmarks.astype(np.float32).copy()
    landmarks[~found] = np.nan
    return PoseTrack(np.arange(n) / fps, landmarks, found, WIDTH, HEIGHT, "client_samples")


def frames_at(start_s: float, end_s: float, n: int) -> slice:
    return slice(int(round(start_s * FPS)), min(n, int(round(end_s * FPS))))


def move(landmarks: np.ndarray, rows: slice, points, dx_px: float = 0.0, dy_px: float = 0.0) -> None:
    landmarks[rows, points, 0] += dx_px / WIDTH
    landmarks[rows, points, 1] += dy_px / HEIGHT


def rotate(landmarks: np.ndarray, rows: slice, degrees: float) -> None:
    """Turn the whole body clockwise on screen by `degrees` about the shoulders' centre, in pixels."""
    px = landmarks[rows, :, :2] * (WIDTH, HEIGHT)
    centre = np.array([0.5 * WIDTH, 0.6425 * HEIGHT])
    a = math.radians(degrees)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    landmarks[rows, :, :2] = ((px - centre) @ turn.T + centre) / (WIDTH, HEIGHT)


HEAD = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_centred_upright_still_person_has_no_problems_and_no_gestures():
    metrics = analyze_body(track(body_frames(160)))
    framing, posture, gestures, fidget = metrics.framing, metrics.posture, metrics.gestures, metrics.fidgeting
    assert metrics.frame_rate_hz == pytest.approx(8.0)
    assert framing.face_centre_x_median == pytest.approx(0.5, abs=1e-6)
    assert framing.face_width_ratio_median == pytest.approx(0.12, abs=1e-6)
    assert framing.off_centre_ratio == 0.0 and framing.cut_by_edge_ratio == 0.0
    assert posture.shoulder_tilt_median_deg == pytest.approx(0.0, abs=1e-6)
    assert posture.upright_head_height_shoulder_widths == pytest.approx(150 / SHOULDER_WIDTH_PX, abs=1e-3)
    assert posture.slouch_ratio == 0.0 and posture.tilted_ratio == 0.0
    assert gestures.hands_visible_ratio == 0.0
    assert gestures.gesture_rate_per_min is None and gestures.gesture_count is None
    assert gestures.reason == "the hands were not visible in any frame"
    assert fidget.fidget_ratio == 0.0 and fidget.band_hz == (1.5, 4.0)
    assert metrics.moments() == []


def test_face_moved_off_centre_then_cut_by_the_edge_gives_shares_and_intervals():
    landmarks = body_frames(240)  # 30 s
    move(landmarks, frames_at(5, 15, 240), HEAD, dx_px=0.3 * WIDTH)  # face centre at x = 0.8: off-centre
    move(landmarks, frames_at(20, 25, 240), HEAD, dx_px=0.48 * WIDTH)  # right ear at 1.04: cut and off-centre
    framing = analyze_body(track(landmarks)).framing
    assert framing.off_centre_ratio == pytest.approx(15 / 30)
    assert framing.cut_by_edge_ratio == pytest.approx(5 / 30)
    assert framing.off_centre_intervals == ((5.0, 15.0), (20.0, 25.0))
    assert framing.cut_by_edge_intervals == ((20.0, 25.0),)


def test_face_low_in_the_frame_is_off_centre_and_a_chin_below_the_edge_is_cut():
    landmarks = body_frames(80)
    # mouth at y 0.97; the chin, 0.35 ear spans (27 px = 0.056 of the height) lower, is below the frame
    move(landmarks, frames_at(0, 10, 80), HEAD, dy_px=0.55 * HEIGHT)
    framing = analyze_body(track(landmarks)).framing
    assert framing.off_centre_ratio == 1.0
    assert framing.cut_by_edge_ratio == 1.0
    landmarks = body_frames(80)
    move(landmarks, frames_at(0, 10, 80), HEAD, dy_px=0.3 * HEIGHT)  # face centre y 0.68, chin 0.78: low, not cut
    framing = analyze_body(track(landmarks)).framing
    assert framing.off_centre_ratio == 0.0 and framing.cut_by_edge_ratio == 0.0


def test_tilted_body_reads_its_angle_and_a_tilted_interval():
    landmarks = body_frames(240)
    rotate(landmarks, frames_at(10, 20, 240), 12.0)
    posture = analyze_body(track(landmarks)).posture
    tilt = analyze_body(track(landmarks)).shoulder_tilt_deg
    assert np.nanmedian(tilt[frames_at(10, 20, 240)]) == pytest.approx(12.0, abs=0.01)
    assert posture.tilted_ratio == pytest.approx(10 / 30)
    assert posture.tilted_intervals == ((10.0, 20.0),)
    assert posture.slouch_ratio == 0.0  # the head height is measured along the shoulder line's normal


def test_sunken_head_is_slouching_against_the_speakers_own_upright_frames():
    landmarks = body_frames(480)  # 60 s
    # from 20 s to 42 s the eyes sink 30% of their height above the shoulder line
    move(landmarks, frames_at(20, 42, 480), HEAD, dy_px=0.3 * 150)
    posture = analyze_body(track(landmarks)).posture
    assert posture.upright_head_height_shoulder_widths == pytest.approx(150 / SHOULDER_WIDTH_PX, abs=1e-3)
    assert posture.slouch_ratio == pytest.approx(22 / 60)
    assert posture.slouch_intervals == ((20.0, 42.0),)
    # a 10% drop (natural movement) is not slouching
    landmarks = body_frames(480)
    move(landmarks, frames_at(20, 42, 480), HEAD, dy_px=0.1 * 150)
    assert analyze_body(track(landmarks)).posture.slouch_intervals == ()


def test_shoulders_just_below_the_edge_measure_slouch_but_not_tilt():
    landmarks = body_frames(160)
    move(landmarks, slice(None), [11, 12], dy_px=0.4 * HEIGHT)  # shoulder joints at y = 1.04
    posture = analyze_body(track(landmarks)).posture
    assert posture.slouch_frames == 160 and posture.tilt_frames == 0
    assert posture.slouch_ratio == 0.0
    assert posture.shoulder_tilt_median_deg is None and posture.tilted_intervals is None
    assert posture.tilt_reason.startswith("the shoulders were never well inside the frame")


def test_close_up_without_shoulders_or_hands_gives_reasons_not_scores():
    landmarks = body_frames(160)
    move(landmarks, slice(None), [11, 12], dy_px=0.7 * HEIGHT)  # shoulders at y = 1.34: a face-only close-up
    metrics = analyze_body(track(landmarks))
    assert metrics.framing.off_centre_ratio == 0.0
    for key in (
        "shoulder_tilt_median_deg",
        "tilted_ratio",
        "slouch_ratio",
        "slouch_intervals",
        "upright_head_height_shoulder_widths",
    ):
        assert getattr(metrics.posture, key) is None, key
    assert "the shoulders were never in or just below the frame" in metrics.posture.slouch_reason
    assert metrics.gestures.gesture_rate_per_min is None
    assert metrics.gestures.reason == "the hands were not visible in any frame"
    assert metrics.fidgeting.fidget_ratio is None
    assert metrics.fidgeting.reason == "neither the shoulders nor the hands were in the frame"


def test_no_person_gives_none_everywhere_with_the_reason():
    metrics = analyze_body(track(body_frames(40), found=np.zeros(40, bool)))
    assert metrics.body_frames == 0
    for group in (metrics.framing, metrics.gestures, metrics.fidgeting):
        assert group.reason == "no person found in any frame"
    assert metrics.posture.tilt_reason == metrics.posture.slouch_reason == "no person found in any frame"
    assert metrics.gestures.hands_visible_ratio is None
    assert metrics.framing.off_centre_ratio is None


def test_gesture_strokes_are_counted_per_minute_of_visible_hands():
    landmarks = body_frames(320)  # 40 s; the right hand (image left) is in view from 10 s to 40 s
    visible = frames_at(10, 40, 320)
    landmarks[visible, 16] = (0.3, 0.85, 0.0, 0.9)
    for start_s in (15.0, 22.0, 31.0):  # three 0.5-s strokes of 0.4 shoulder widths: 0.8 sw/s
        for rows in range(int(start_s * FPS), int(start_s * FPS) + 4):
            landmarks[rows:, 16, 1] -= 0.1 * SHOULDER_WIDTH_PX / HEIGHT
    landmarks[visible, 16, :2] += np.random.default_rng(1).normal(0, 0.5 / WIDTH, (30 * 8, 2))  # 0.5 px jitter
    gestures = analyze_body(track(landmarks)).gestures
    assert gestures.hands_visible_ratio == pytest.approx(30 / 40)
    assert gestures.hands_visible_s == pytest.approx(30.0)
    assert gestures.gesture_count == 3
    assert gestures.gesture_rate_per_min == pytest.approx(3 / 0.5)
    assert [round(s, 3) for s, _ in gestures.gesture_intervals] == [15.0, 22.0, 31.0]
    assert gestures.wrist_speed_median_shoulder_widths_per_s < 0.1  # the hand rests between strokes


def test_gestures_need_frames_fast_enough_to_see_a_stroke():
    landmarks = body_frames(60)  # 60 s at 1 pose frame per second, the hand in view throughout
    landmarks[:, 16] = (0.3, 0.85, 0.0, 0.9)
    gestures = analyze_body(track(landmarks, fps=1.0)).gestures
    assert gestures.hands_visible_ratio == 1.0 and gestures.gesture_count is None
    assert gestures.reason == "frames sampled at 1.0 per second; gestures need 4 (a stroke lasts 0.25-1 s)"


def test_hands_seen_only_briefly_are_not_judged():
    landmarks = body_frames(160)
    landmarks[frames_at(5, 7, 160), 15] = (0.7, 0.85, 0.0, 0.9)
    gestures = analyze_body(track(landmarks)).gestures
    assert gestures.hands_visible_s == pytest.approx(2.0)
    assert gestures.gesture_count is None
    assert gestures.reason == "the hands were visible for only 2.0 s; gestures need 3 s"


def oscillate(landmarks: np.ndarray, rows: slice, amplitude_sw: float, hz: float) -> None:
    t = np.arange(len(landmarks))[rows] / FPS
    landmarks[rows, :, 0] += (amplitude_sw * SHOULDER_WIDTH_PX / WIDTH * np.sin(2 * np.pi * hz * t))[:, None]


def test_fast_small_rocking_is_fidgeting_and_slow_sway_or_noise_is_not():
    landmarks = body_frames(320)  # 40 s
    oscillate(landmarks, frames_at(10, 20, 320), 0.05, 2.5)  # RMS 0.035 sw in band
    oscillate(landmarks, frames_at(25, 35, 320), 0.15, 0.4)  # large slow sway
    landmarks[:, :, :2] += np.random.default_rng(2).normal(0, 0.002 * SHOULDER_WIDTH_PX / WIDTH, (320, 33, 2))
    fidget = analyze_body(track(landmarks)).fidgeting
    ((start_s, end_s),) = fidget.fidget_intervals
    assert start_s == pytest.approx(10.0, abs=0.6) and end_s == pytest.approx(20.0, abs=0.6)
    assert fidget.fidget_ratio == pytest.approx(10 / 40, abs=0.04)
    assert fidget.measured_s == pytest.approx(40.0)


def test_fidgeting_needs_a_frame_rate_that_can_show_the_band():
    fidget = analyze_body(track(body_frames(80), fps=4.0)).fidgeting
    assert fidget.fidget_ratio is None
    assert fidget.reason.startswith("frames sampled at 4.0 per second; fidgeting needs 6")


def test_moments_are_labelled_for_timelines():
    landmarks = body_frames(8 * 100)
    move(landmarks, frames_at(70, 92, 800), HEAD, dy_px=0.3 * 150)
    move(landmarks, frames_at(40, 52, 800), HEAD, dx_px=0.3 * WIDTH)
    moments = analyze_body(track(landmarks)).moments()
    assert [m.label() for m in moments] == ["off-centre 0:40–0:52", "slouching 1:10–1:32"]
    assert (moments[1].kind, moments[1].start_s, moments[1].end_s) == ("slouching", 70.0, 92.0)
    assert BodyMoment("fidgeting", 59.6, 61.0).label() == "fidgeting 1:00–1:01"


def test_one_noisy_frame_neither_splits_nor_makes_an_interval():
    landmarks = body_frames(160)
    move(landmarks, frames_at(5, 15, 160), HEAD, dx_px=0.3 * WIDTH)
    move(landmarks, slice(80, 81), HEAD, dx_px=-0.3 * WIDTH)  # one centred frame inside the off-centre stretch
    move(landmarks, slice(20, 21), HEAD, dx_px=0.3 * WIDTH)  # one off-centre frame in a centred stretch
    framing = analyze_body(track(landmarks)).framing
    assert framing.off_centre_intervals == ((5.0, 15.0),)


def test_client_points_without_visibility_are_judged_by_position():
    landmarks = body_frames(160)
    landmarks[..., 3] = np.nan
    metrics = analyze_body(track(landmarks))
    assert metrics.posture.slouch_frames == 160
    assert metrics.gestures.hands_visible_ratio == 0.0  # the wrists are below the frame
