"""Equivalence before speed: the converted, batched landmark runtime (`face.runtime: onnx`) against MediaPipe's own
graphs (`face.runtime: mediapipe`) on the real face videos in benchmarks/real/faces (the sources of every face in
benchmarks/real_set.py), decoded as the service decodes them (640 px, 10 s chunks, tracking restarted per chunk).

    .venv/bin/python -m benchmarks.landmark_equivalence [--seconds 20] [--face-rate 8] [--pose-rate 8]

Prints four tables: landmark distances (face: every one of the 478 points, in inter-ocular distances — the iris
centres 468 and 473 of MediaPipe's output; pose: the 33 points in shoulder widths, split by MediaPipe's visibility
> 0.5); each face and body metric from both tracks with the tolerance it is held to; the pose frame by frame from
the region MediaPipe itself tracked with (open loop: no feedback between the runtimes), beside MediaPipe against
itself with that region moved by a twentieth of a pixel; CPU seconds per frame of each path (one process, one
thread each, after a warm-up), and of the converted path the part spent around the networks.
tests/test_landmark_runtime.py asserts the same bounds on short clips."""

from __future__ import annotations

import argparse
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FACES = Path(__file__).parent / "real" / "faces"

FACE_TOLERANCE_IOD = 0.01
"""Every face landmark within 1% of the inter-ocular distance of MediaPipe's (measured worst: 0.3%)."""
POSE_VISIBLE_TOLERANCE_SW = 0.02
"""Pose points MediaPipe sees (visibility > 0.5), tracked by each runtime on its own: 99% within 2% of a shoulder
width on the real people (measured: 0.07–0.64%). Each region comes from the previous frame's landmarks, so the
last float rounding of both runtimes' networks feeds forward; the single worst frames, and points MediaPipe does not
see (extrapolated outside the frame), are reported, not bounded — the open-loop bounds below are the per-frame
equivalence."""
POSE_OPEN_LOOP_TOLERANCE_SW = 0.005
"""Given the region MediaPipe tracked with, every one of the 33 points within 0.5% of a shoulder width of
MediaPipe's (measured: 0.19% at worst, on the cartoon after pyfeat_face_noface.mov's cut; 0.0000 on people)."""
REGION_TOLERANCE_PX = 0.05
"""... and the next region within a twentieth of a pixel of MediaPipe's (measured: 0.008 px at worst)."""
REGION_SHIFT_PX = 0.05
"""How far the open-loop table moves MediaPipe's own region to show how much its landmarks depend on the region's
last fraction of a pixel (given the same region, the two runtimes' aux points differ by ~0.03 px)."""
METRIC_TOLERANCES = {
    "face visible ratio": 0.01,
    "eye contact ratio": 0.02,
    "blinks": 1,
    "smile ratio": 0.02,
    "head motion (deg/s)": 0.5,
    "head yaw median (deg)": 1.0,
    "face centre x": 0.01,
    "off-centre ratio": 0.02,
    "cut-by-edge ratio": 0.02,
    "shoulder tilt median (deg)": 1.0,
    "head height (shoulder widths)": 0.05,
    "slouch ratio": 0.03,
    "hands visible ratio": 0.03,
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
    network_cpu_s: dict = field(default_factory=dict)  # stage -> CPU seconds inside the onnx path's networks


@dataclass
class OpenLoop:
    """The pose frame by frame from the region MediaPipe's tracking used (its detection's on a detection frame, else
    its previous frame's ROI_FROM_LANDMARKS), so neither runtime's rounding feeds the other's next region."""

    name: str
    frames: int = 0  # frames MediaPipe had a region for
    found_differs: int = 0
    errors_sw: list = field(default_factory=list)  # all 33 points, frames both found
    region_px: list = field(default_factory=list)  # next region: largest centre or size difference, pixels
    rotation_deg: list = field(default_factory=list)
    shifted_errors_sw: list = field(default_factory=list)  # MediaPipe against itself, region moved REGION_SHIFT_PX
    shifted_found_differs: int = 0


def landmarkers(face_rate: float = 8.0):
    from softskills.models.body.pose import BatchedPoseLandmarker, PoseLandmarker
    from softskills.models.face.landmarks import FaceLandmarker
    from softskills.models.face.mesh_network import BatchedFaceLandmarker

    return {
        ("face", "mediapipe"): FaceLandmarker(),
        ("face", "onnx"): BatchedFaceLandmarker(device="cpu"),
        ("pose", "mediapipe"): PoseLandmarker(),
        ("pose", "onnx"): BatchedPoseLandmarker(device="cpu"),
    }


def mediapipe_pose_with_regions():
    """mp.solutions.pose.Pose exactly as PoseLandmarker builds it, with the regions it tracks with as two more
    outputs (the graph's ROI_FROM_DETECTION and ROI_FROM_LANDMARKS)."""
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions.pose import Pose

    from softskills.models.body.pose import MEDIAPIPE_POSE_SETTINGS

    class RegionOutputs(SolutionBase):
        def __init__(self, *args, outputs, **kwargs):
            super().__init__(
                *args, outputs=[*outputs, "pose_rect_from_detection", "pose_rect_from_landmarks"], **kwargs
            )

    class PoseWithRegions(Pose, RegionOutputs):
        pass

    return PoseWithRegions(**MEDIAPIPE_POSE_SETTINGS)


MEDIAPIPE_POSE_STEP = """
input_stream: "IMAGE:image"
input_stream: "ROI:roi"
input_side_packet: "MODEL_COMPLEXITY:model_complexity"
input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
output_stream: "LANDMARKS:landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  output_stream: "LANDMARKS:landmarks"
}
"""
"""The landmark step of the pose graph alone on a given region. Built through SolutionBase like the solution, so
its calculators get the same options (the heatmap window included); it reproduces the solution's landmarks from
the solution's own regions to float32 rounding."""


def mediapipe_pose_step():
    from mediapipe.python.solution_base import SolutionBase

    from softskills.models.body.pose import SHIPPED_MODEL_COMPLEXITY

    return SolutionBase(
        graph_config=MEDIAPIPE_POSE_STEP,
        outputs=["landmarks"],
        side_inputs={"model_complexity": SHIPPED_MODEL_COMPLEXITY, "enable_segmentation": False},
    )


def compare_pose_open_loop(path: Path, converted, *, seconds: float | None = None, rate: float = 8.0) -> OpenLoop:
    """`converted`: a BatchedPoseLandmarker. Decoded like compare_video; MediaPipe's tracking restarts per chunk."""
    from softskills.models.media.decode import VideoFrames
    from softskills.models.media.tracking import Rect

    result = OpenLoop(path.name)
    tracker, step = mediapipe_pose_with_regions(), mediapipe_pose_step()
    try:
        for chunk in VideoFrames(str(path), frame_rate_hz=rate, max_side_px=640, chunk_s=10.0, max_decode_s=3600):
            keep_time = chunk.frame_times_s < (seconds if seconds else math.inf)
            if not keep_time.any():
                break
            tracker.reset()
            previous, state = None, None
            for frame in chunk.frames[keep_time]:
                frame = np.ascontiguousarray(frame)
                tracked = tracker.process(frame)
                region = tracked.pose_rect_from_detection if tracked.pose_rect_from_detection is not None else previous
                previous = tracked.pose_rect_from_landmarks
                if region is None:
                    continue
                if tracked.pose_rect_from_detection is not None:
                    state = converted.new_state()  # MediaPipe's filter starts again after a detection too
                result.frames += 1
                rect = Rect(region.x_center, region.y_center, region.width, region.height, region.rotation)
                points, next_rect = converted.landmarks_in([frame], [rect], [state])[0]
                shifted = step.process({"image": frame, "roi": _moved(region, REGION_SHIFT_PX / frame.shape[1])})
                reference = _points(tracked.pose_landmarks, frame)
                result.found_differs += (reference is None) != (points is None)
                result.shifted_found_differs += (reference is None) != (shifted.landmarks is None)
                if reference is None:
                    continue
                shoulders = np.linalg.norm(reference[11] - reference[12])
                if points is not None:
                    converted_px = points[:, :2] * [frame.shape[1], frame.shape[0]]
                    result.errors_sw.append(np.linalg.norm(reference - converted_px, axis=1) / shoulders)
                if shifted.landmarks is not None:
                    result.shifted_errors_sw.append(
                        np.linalg.norm(reference - _points(shifted.landmarks, frame), axis=1) / shoulders
                    )
                if points is not None and tracked.pose_rect_from_landmarks is not None:
                    result.region_px.append(_region_difference_px(tracked.pose_rect_from_landmarks, next_rect, frame))
                    result.rotation_deg.append(
                        abs(math.degrees(tracked.pose_rect_from_landmarks.rotation - next_rect.rotation))
                    )
    finally:
        tracker.close()
        step.close()
    return result


def _moved(region, dx: float):
    from mediapipe.framework.formats import rect_pb2

    return rect_pb2.NormalizedRect(
        x_center=region.x_center + dx,
        y_center=region.y_center,
        width=region.width,
        height=region.height,
        rotation=region.rotation,
    )


def _points(landmarks, frame: np.ndarray) -> np.ndarray | None:
    """A NormalizedLandmarkList's x, y in pixels (33, 2), or None."""
    if landmarks is None:
        return None
    return np.array([(p.x, p.y) for p in landmarks.landmark]) * [frame.shape[1], frame.shape[0]]


def _region_difference_px(reference, rect, frame: np.ndarray) -> float:
    width, height = frame.shape[1], frame.shape[0]
    return max(
        abs(reference.x_center - rect.x_center) * width,
        abs(reference.y_center - rect.y_center) * height,
        abs(reference.width - rect.width) * width,
        abs(reference.height - rect.height) * height,
    )


def compare_video(
    path: Path, models: dict, *, seconds: float | None = None, face_rate: float = 8.0, pose_rate: float = 8.0
) -> Comparison:
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
            inside_networks = [0.0]
            with _network_cpu_time(inside_networks):
                start = time.process_time()
                track = model.landmarks(*inputs[stage])
                spent, count = result.cpu_s.get((stage, runtime), (0.0, 0))
                result.cpu_s[(stage, runtime)] = (spent + time.process_time() - start, count + len(inputs[stage][1]))
            if runtime == "onnx":
                result.network_cpu_s[stage] = result.network_cpu_s.get(stage, 0.0) + inside_networks[0]
            tracks[(stage, runtime)].append(track)
    face = {r: concatenate_tracks(tracks[("face", r)]) for r in ("mediapipe", "onnx")}
    pose = {r: concatenate_tracks(tracks[("pose", r)]) for r in ("mediapipe", "onnx")}
    _landmark_errors(result, face, pose)
    face_metrics = {r: analyze_face(face[r]) for r in face}
    body_metrics = {r: analyze_body(pose[r]) for r in pose}
    readers = {
        "face visible ratio": lambda f, b: f.face_visible_ratio,
        "eye contact ratio": lambda f, b: f.eye_contact_ratio,
        "blinks": lambda f, b: f.blink_count,
        "smile ratio": lambda f, b: f.smile_ratio,
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


@contextmanager
def _network_cpu_time(total: list):
    """Adds the CPU seconds spent inside LandmarkNetwork.run (the converted networks) to total[0]."""
    from softskills.models.media.landmark_runtime import LandmarkNetwork

    run = LandmarkNetwork.run

    def timed(self, batch):
        start = time.process_time()
        try:
            return run(self, batch)
        finally:
            total[0] += time.process_time() - start

    LandmarkNetwork.run = timed
    try:
        yield
    finally:
        LandmarkNetwork.run = run


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
    return " / ".join(
        f"{v:.4f}" for v in (np.median(joined), np.percentile(joined, 95), np.percentile(joined, 99), joined.max())
    )


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
    results = [
        compare_video(path, models, seconds=args.seconds, face_rate=args.face_rate, pose_rate=args.pose_rate)
        for path in sorted(FACES.iterdir())
        if path.suffix in (".mp4", ".mov")
    ]
    print(
        "| video | face found (MediaPipe / onnx) | face error / IOD (median / p95 / p99 / max) | pose found | "
        "pose error / shoulder width, visible points (median / p95 / p99 / max) | same, points MediaPipe does "
        "not see |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | {agreement(r.face_found)} | {summary(r.face_errors_iod)} | {agreement(r.pose_found)} | "
            f"{summary(r.pose_visible_errors_sw)} | {summary(r.pose_hidden_errors_sw)} |"
        )
    print(
        f"| all | {agreement([f for r in results for f in r.face_found])} | "
        f"{summary([e for r in results for e in r.face_errors_iod])} | "
        f"{agreement([f for r in results for f in r.pose_found])} | "
        f"{summary([e for r in results for e in r.pose_visible_errors_sw])} | "
        f"{summary([e for r in results for e in r.pose_hidden_errors_sw])} |"
    )
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
    open_loop = [
        compare_pose_open_loop(FACES / r.name, models[("pose", "onnx")], seconds=args.seconds, rate=args.pose_rate)
        for r in results
    ]
    print(
        f"| video | frames with MediaPipe's region | found differs | pose error / shoulder width, all 33 points "
        f"(median / p95 / p99 / max) | next region difference, px (median / p99 / max) | rotation difference, "
        f"degrees (max) | MediaPipe against itself, region moved {REGION_SHIFT_PX} px: change / shoulder width "
        f"(median / p95 / p99 / max) | found differs |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for o in open_loop:
        print(
            f"| {o.name} | {o.frames} | {o.found_differs} | {summary(o.errors_sw)} | "
            f"{_spread(o.region_px)} | {max(o.rotation_deg, default=0):.4f} | {summary(o.shifted_errors_sw)} | "
            f"{o.shifted_found_differs} |"
        )
    print()
    print("| stage | frames | MediaPipe CPU s / frame | onnx (batch 1) CPU s / frame | of which around the networks |")
    print("|---|---|---|---|---|")
    for stage in ("face", "pose"):
        spent = {runtime: sum(r.cpu_s[(stage, runtime)][0] for r in results) for runtime in ("mediapipe", "onnx")}
        frames = sum(r.cpu_s[(stage, "mediapipe")][1] for r in results)
        around = spent["onnx"] - sum(r.network_cpu_s[stage] for r in results)
        print(
            f"| {stage} | {frames} | {spent['mediapipe'] / frames:.4f} | {spent['onnx'] / frames:.4f} | "
            f"{around / frames:.4f} |"
        )
    return 0


def _spread(values: list) -> str:
    if not values:
        return "–"
    return " / ".join(f"{v:.4f}" for v in (np.median(values), np.percentile(values, 99), max(values)))


def _fmt(value) -> str:
    return "None" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
