"""Equivalence before speed: the converted, batched landmark runtime (`face.runtime: onnx`) against MediaPipe's own
graphs (`face.runtime: mediapipe`) on the real face videos in benchmarks/real/faces (the sources of every face in
benchmarks/real_set.py), decoded as the service decodes them (640 px, 10 s chunks, tracking restarted per chunk).

    .venv/bin/python -m benchmarks.landmark_equivalence [--seconds 20] [--face-rate 8] [--pose-rate 8]

Prints three tables: landmark distances (face: every one of the 478 points, in inter-ocular distances — the iris
centres 468 and 473 of MediaPipe's output; pose: the 33 points in shoulder widths, split by MediaPipe's visibility
> 0.5); each face and body metric from both tracks with the tolerance it is held to; CPU seconds per frame of each
path (one process, one thread each, after a warm-up). tests/test_landmark_runtime.py asserts the same bounds on two
short clips."""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FACES = Path(__file__).parent / "real" / "faces"

FACE_TOLERANCE_IOD = 0.01
"""Every face landmark within 1% of the inter-ocular distance of MediaPipe's (measured worst: 0.3%)."""
POSE_VISIBLE_TOLERANCE_SW = 0.05
"""Pose points MediaPipe sees (visibility > 0.5): 99% within 5% of a shoulder width. Points it does not see are
extrapolated outside the frame, where the tracked region's last float rounding moves them more; they are reported,
not bounded."""
METRIC_TOLERANCES = {
    "face visible ratio": 0.01, "eye contact ratio": 0.02, "blinks": 1, "smile ratio": 0.02,
    "head motion (deg/s)": 0.5, "head yaw median (deg)": 1.0,
    "face centre x": 0.01, "off-centre ratio": 0.02, "cut-by-edge ratio": 0.02, "shoulder tilt median (deg)": 1.0,
    "head height (shoulder widths)": 0.05, "slouch ratio": 0.03, "hands visible ratio": 0.03,
}
"""Absolute differences allowed between the two runtimes' metrics (the benchmark prints them all)."""


@dataclass
class Comparison:
    name: str
    face_errors_iod: list = field(default_factory=list)
    pose_visible_errors_sw: list = field(default_factory=list)
    pose_hidden_errors_sw: list = field(default_factory=list)
    face_found: list = field(default_factory=list)  # (mediapipe, onnx) bool arrays
    pose_found: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # name -> (mediapipe, onnx)
    cpu_s: dict = field(default_factory=dict)  # (stage, runtime) -> (seconds, frames)


def landmarkers(face_rate: float = 8.0):
    from softskills.models.body.pose import BatchedPoseLandmarker, PoseLandmarker
    from softskills.models.face.landmarks import FaceLandmarker
    from softskills.models.face.mesh_network import BatchedFaceLandmarker

    return {("face", "mediapipe"): FaceLandmarker(), ("face", "onnx"): BatchedFaceLandmarker(device="cpu"),
            ("pose", "mediapipe"): PoseLandmarker(), ("pose", "onnx"): BatchedPoseLandmarker(device="cpu")}


def compare_video(path: Path, models: dict, *, seconds: float | None = None, face_rate: float = 8.0,
                  pose_rate: float = 8.0) -> Comparison:
    from softskills.models.body.metrics import analyze_body
    from softskills.models.face.landmarks import concatenate_tracks
    from softskills.models.face.metrics import analyze_face
    from softskills.models.media.decode import VideoFrames

    result = Comparison(path.name)
    tracks = {key: [] for key in models}
    for chunk in VideoFrames(str(path), frame_rate_hz=face_rate, max_side_px=640, chunk_s=10.0, max_decode_s=3600):
        keep_time = chunk.frame_times_s < (seconds if seconds else math.inf)
        if not keep_time.any():
            break
        frames, times = chunk.frames[keep_time], chunk.frame_times_s[keep_time]
        pose_keep = np.flatnonzero(np.diff(np.floor(times * pose_rate + 1e-6), prepend=-1) > 0)
        inputs = {"face": (frames, times), "pose": (frames[pose_keep], times[pose_keep])}
        for (stage, runtime), model in models.items():
            start = time.process_time()
            track = model.landmarks(*inputs[stage])
            spent, count = result.cpu_s.get((stage, runtime), (0.0, 0))
            result.cpu_s[(stage, runtime)] = (spent + time.process_time() - start, count + len(inputs[stage][1]))
            tracks[(stage, runtime)].append(track)
    face = {r: concatenate_tracks(tracks[("face", r)]) for r in ("mediapipe", "onnx")}
    pose = {r: concatenate_tracks(tracks[("pose", r)]) for r in ("mediapipe", "onnx")}
    _landmark_errors(result, face, pose)
    face_metrics = {r: analyze_face(face[r]) for r in face}
    body_metrics = {r: analyze_body(pose[r]) for r in pose}
    readers = {
        "face visible ratio": lambda f, b: f.face_visible_ratio, "eye contact ratio": lambda f, b: f.eye_contact_ratio,
        "blinks": lambda f, b: f.blink_count, "smile ratio": lambda f, b: f.smile_ratio,
        "head motion (deg/s)": lambda f, b: f.head_motion_deg_per_s,
        "head yaw median (deg)": lambda f, b: f.head_yaw_median_deg,
        "face centre x": lambda f, b: b.framing.face_centre_x_median,
        "off-centre ratio": lambda f, b: b.framing.off_centre_ratio,
        "cut-by-edge ratio": lambda f, b: b.framing.cut_by_edge_ratio,
        "shoulder tilt median (deg)": lambda f, b: b.posture.shoulder_tilt_median_deg,
        "head height (shoulder widths)": lambda f, b: b.posture.head_height_median_shoulder_widths,
        "slouch ratio": lambda f, b: b.posture.slouch_ratio,
        "hands visible ratio": lambda f, b: b.gestures.hands_visible_ratio,
    }
    for name, read in readers.items():
        result.metrics[name] = tuple(read(face_metrics[r], body_metrics[r]) for r in ("mediapipe", "onnx"))
    return result


def _landmark_errors(result: Comparison, face: dict, pose: dict) -> None:
    reference, converted = face["mediapipe"], face["onnx"]
    result.face_found.append((reference.found, converted.found))
    both = reference.found & converted.found
    pixels = np.array([reference.image_width, reference.image_height])
    a, b = reference.landmarks[both, :, :2] * pixels, converted.landmarks[both, :, :2] * pixels
    iod = np.linalg.norm(a[:, 468] - a[:, 473], axis=1)
    result.face_errors_iod.append((np.linalg.norm(a - b, axis=2) / iod[:, None]).ravel())
    reference, converted = pose["mediapipe"], pose["onnx"]
    result.pose_found.append((reference.found, converted.found))
    both = reference.found & converted.found
    pixels = np.array([reference.image_width, reference.image_height])
    a, b = reference.landmarks[both, :, :2] * pixels, converted.landmarks[both, :, :2] * pixels
    shoulders = np.linalg.norm(a[:, 11] - a[:, 12], axis=1)
    errors = np.linalg.norm(a - b, axis=2) / shoulders[:, None]
    visible = reference.landmarks[both, :, 3] > 0.5
    result.pose_visible_errors_sw.append(errors[visible])
    result.pose_hidden_errors_sw.append(errors[~visible])


def summary(values: list) -> str:
    joined = np.concatenate(values) if values else np.empty(0)
    if not len(joined):
        return "–"
    return " / ".join(f"{v:.4f}" for v in (np.median(joined), np.percentile(joined, 95), np.percentile(joined, 99),
                                            joined.max()))


def agreement(found: list) -> str:
    ref = np.concatenate([a for a, _ in found])
    new = np.concatenate([b for _, b in found])
    return f"{int(ref.sum())} / {int(new.sum())} of {len(ref)} ({(ref == new).mean():.3f} agree)"


def within(name: str, values: tuple) -> bool:
    reference, converted = values
    if reference is None or converted is None:
        return reference is None and converted is None
    return abs(reference - converted) <= METRIC_TOLERANCES[name] + 1e-9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=None, help="only the first N seconds of each video")
    parser.add_argument("--face-rate", type=float, default=8.0)
    parser.add_argument("--pose-rate", type=float, default=8.0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    models = landmarkers()
    results = [compare_video(path, models, seconds=args.seconds, face_rate=args.face_rate, pose_rate=args.pose_rate)
               for path in sorted(FACES.iterdir()) if path.suffix in (".mp4", ".mov")]
    print("| video | face found (MediaPipe / onnx) | face error / IOD (median / p95 / p99 / max) | pose found | "
          "pose error / shoulder width, visible points (median / p95 / p99 / max) | same, points MediaPipe does "
          "not see |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.name} | {agreement(r.face_found)} | {summary(r.face_errors_iod)} | {agreement(r.pose_found)} | "
              f"{summary(r.pose_visible_errors_sw)} | {summary(r.pose_hidden_errors_sw)} |")
    print(f"| all | {agreement([f for r in results for f in r.face_found])} | "
          f"{summary([e for r in results for e in r.face_errors_iod])} | "
          f"{agreement([f for r in results for f in r.pose_found])} | "
          f"{summary([e for r in results for e in r.pose_visible_errors_sw])} | "
          f"{summary([e for r in results for e in r.pose_hidden_errors_sw])} |")
    print()
    print("| metric | tolerance | " + " | ".join(r.name for r in results) + " |")
    print("|---|---|" + "---|" * len(results))
    for name in METRIC_TOLERANCES:
        cells = []
        for r in results:
            reference, converted = r.metrics[name]
            mark = "" if within(name, r.metrics[name]) else " **over**"
            cells.append(f"{_fmt(reference)} / {_fmt(converted)}{mark}")
        print(f"| {name} | {METRIC_TOLERANCES[name]} | " + " | ".join(cells) + " |")
    print()
    print("| stage | frames | MediaPipe CPU s / frame | onnx (batch 1) CPU s / frame |")
    print("|---|---|---|---|")
    for stage in ("face", "pose"):
        spent = {runtime: sum(r.cpu_s[(stage, runtime)][0] for r in results) for runtime in ("mediapipe", "onnx")}
        frames = sum(r.cpu_s[(stage, "mediapipe")][1] for r in results)
        print(f"| {stage} | {frames} | {spent['mediapipe'] / frames:.4f} | {spent['onnx'] / frames:.4f} |")
    return 0


def _fmt(value) -> str:
    return "None" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
