"""Clips built to differ from one another in ONE behaviour (metamorphic validity): the same words read by
espeak-ng over the same portrait, changed only in fillers, rate, pitch range, the face or the voice. A valid
interpretation ranks them as `RANKED` says and leaves the scores `UNSCORED` lists null. tests/test_validity.py
checks this in process; `make accuracy` prints the rank order the running service gives them.

Each clip's truth is what was built: the fillers inserted, espeak-ng's rate, the face shown or not, speech or
a muted microphone; the pace is measured on the waveform by the silence rule of testkit/videos.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from softskills.models.interpretation.model import CATEGORIES, Interpretation, load_params
from testkit import videos
from testkit.videos import (
    FIXTURE_FPS,
    FIXTURE_SIZE,
    SAMPLE_RATE,
    SpeechTruth,
    build_once,
    make_talking_head_video,
    synthesize_script,
)

SENTENCES = (
    "Good morning everyone.",
    "Today I will share three results from our team.",
    "First, sales grew faster than we planned.",
    "Second, our customers are happier than last year.",
    "Third, we shipped the new product two weeks early.",
    "Thank you for listening.",
)
# The filler version: a hesitation opens five of the sentences (the words are otherwise the same).
FILLERS = {1: "Um,", 2: "Uh,", 3: "Um,", 4: "Uh,", 5: "Um,"}
BASE_WPM = 150
SLOW_WPM = 90
FAST_WPM = 230
# espeak-ng's SSML pitch range: x-low keeps the intonation nearly flat, x-high widens it (measured pitch SD
# ~1.4 and ~4.0 semitones against ~2.6 for espeak-ng's default).
FLAT_RANGE, VARIED_RANGE = "x-low", "x-high"
MUTED_MICROPHONE_DBFS = -60.0  # the no-speech clip's track: a muted microphone's hiss
LEVELS = tuple(load_params()["interpretations"])
SCORES = ("overall", *CATEGORIES, *LEVELS)
_SET_VERSION = "1"


@dataclass(frozen=True)
class ValidityClip:
    name: str
    path: str
    differs_by: str  # what was changed against the base clip
    espeak_wpm: int | None  # espeak-ng's rate setting; None without speech
    pace_wpm: float | None  # measured on the waveform (words / speaking time); None without speech
    fillers_inserted: int
    has_face: bool
    has_speech: bool
    duration_s: float


@dataclass(frozen=True)
class Ranked:
    """`higher` must score strictly above `lower` on `score`."""

    score: str
    higher: str
    lower: str


RANKED = (
    Ranked("clarity", "base_150", "fillers_150"),
    Ranked("clarity", "base_150", "slow_90"),
    Ranked("clarity", "base_150", "fast_230"),
    Ranked("expressiveness", "varied_pitch", "base_150"),
    Ranked("expressiveness", "base_150", "flat_pitch"),
)


def needs_the_face(params: dict | None = None) -> tuple[str, ...]:
    """The categories and levels that cannot be scored without a face: their speech and content evidence covers
    less than `min_coverage` of their weight (the body goes with the face: no person is in the frame)."""
    params = params or load_params()
    out = []
    for name, spec in {**params["categories"], **params["interpretations"]}.items():
        weights = spec["weights"]
        voice = sum(w for k, w in weights.items() if params["metrics"][k]["evidence"] in ("speech", "content"))
        if voice / sum(weights.values()) < params["min_coverage"] - 1e-9:
            out.append(name)
    return tuple(out)


# Scores that must be null on a clip: overall without speech; without the face, what only the face can carry.
UNSCORED = (("no_speech", ("overall",)), ("no_face", needs_the_face()))
# (clip, reference): the reference's audio over the empty background. What is still scored must come from the
# speech alone: each score equals the reference's recomputed without its face and body evidence.
FACE_REMOVED = ("no_face", "base_150")


def _with_fillers(sentences: tuple[str, ...]) -> list[str]:
    return [f"{FILLERS[i]} {s[0].lower()}{s[1:]}" if i in FILLERS else s for i, s in enumerate(sentences)]


def _with_range(sentences: tuple[str, ...], pitch_range: str) -> list[str]:
    return [f'<prosody range="{pitch_range}">{s}</prosody>' for s in sentences]


def _speech(sentences, wpm: int) -> SpeechTruth:
    return synthesize_script(list(sentences), wpm=wpm)


def _build(root: Path) -> list[ValidityClip]:
    """Synthesises and encodes every clip (about 20 s on 2 cores)."""
    w, h = FIXTURE_SIZE
    base = _speech(SENTENCES, BASE_WPM)
    muted = np.random.default_rng(0).normal(0, 10 ** (MUTED_MICROPHONE_DBFS / 20), len(base.audio)).astype(np.float32)
    # name, what differs, the speech (None: the muted track), espeak-ng rate, fillers inserted, face shown
    specs = (
        ("base_150", "nothing: espeak-ng's default intonation at 150 wpm", base, BASE_WPM, 0, True),
        (
            "fillers_150",
            f"{len(FILLERS)} fillers (um, uh) open five sentences",
            _speech(_with_fillers(SENTENCES), BASE_WPM),
            BASE_WPM,
            len(FILLERS),
            True,
        ),
        ("slow_90", f"read at {SLOW_WPM} wpm", _speech(SENTENCES, SLOW_WPM), SLOW_WPM, 0, True),
        ("fast_230", f"read at {FAST_WPM} wpm", _speech(SENTENCES, FAST_WPM), FAST_WPM, 0, True),
        (
            "flat_pitch",
            f"pitch range {FLAT_RANGE} (flat intonation)",
            _speech(_with_range(SENTENCES, FLAT_RANGE), BASE_WPM),
            BASE_WPM,
            0,
            True,
        ),
        (
            "varied_pitch",
            f"pitch range {VARIED_RANGE} (lively intonation)",
            _speech(_with_range(SENTENCES, VARIED_RANGE), BASE_WPM),
            BASE_WPM,
            0,
            True,
        ),
        ("no_face", "the base audio over the empty background", base, BASE_WPM, 0, False),
        (
            "no_speech",
            f"the face over a muted microphone (hiss at {MUTED_MICROPHONE_DBFS:g} dBFS)",
            None,
            None,
            0,
            True,
        ),
    )
    out = []
    for name, differs_by, speech, wpm, fillers, face in specs:
        audio = speech.audio if speech is not None else muted
        path = root / f"validity_{name}.mp4"
        make_talking_head_video(
            path, audio, container="mp4", width=w, height=h, fps=FIXTURE_FPS, face_visible=None if face else []
        )
        out.append(
            ValidityClip(
                name=name,
                path=str(path),
                differs_by=differs_by,
                espeak_wpm=wpm,
                pace_wpm=speech.pace_wpm if speech is not None else None,
                fillers_inserted=fillers,
                has_face=face,
                has_speech=speech is not None,
                duration_s=round(len(audio) / SAMPLE_RATE, 3),
            )
        )
    return out


def _cache_key() -> str:
    spec = [_SET_VERSION, Path(__file__).read_text(), Path(videos.__file__).read_text()]
    return hashlib.sha256(json.dumps(spec, default=str).encode()).hexdigest()[:16]


def validity_set(root: str | os.PathLike) -> dict[str, ValidityClip]:
    """The clips by name, built once under root and reused while this module is unchanged."""
    root = Path(root)
    data = build_once(
        root / f"validity_set_{_cache_key()}.json",
        lambda: [asdict(c) for c in _build(root)],
        lambda d: all(os.path.exists(c["path"]) for c in d),
    )
    return {d["name"]: ValidityClip(**d) for d in data}


def interpretation_scores(i: Interpretation) -> dict[str, float | None]:
    """Every score of an interpretation, unrounded: overall 0-100, categories 0-10, levels 0-1."""
    return {
        "overall": i.overall_score,
        **{k: c.score for k, c in i.categories.items()},
        **{k: level.score for k, level in i.levels.items()},
    }


def body_scores(body: dict) -> dict[str, float | None]:
    """The same scores from a full-analysis answer (as published: categories to 0.1, levels to 0.001)."""
    video = body.get("video_analysis") or {}
    engine = body.get("engine_analysis") or {}
    categories = video.get("category_scores") or {}
    return {
        "overall": video.get("overall_score"),
        **{k: categories.get(k) for k in CATEGORIES},
        **{k: (engine.get(k) or {}).get("score") for k in LEVELS},
    }
