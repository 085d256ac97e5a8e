"""The labelled accuracy set: talking-head clips whose words, fillers, pauses and face visibility are known.

Each espeak-ng clip is assembled from separately synthesised units (a phrase, or one filler) with their edge
silence trimmed, joined by silences of known length. So every word group, filler and pause lies at a known
sample position: the truth is constructed, not estimated. The real Beckett recording is added with timings from
the waveform's silence rule (testkit/videos.py), which is approximate.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import scipy.signal

from testkit.videos import (
    BECKETT_TEXT,
    FIXTURE_FPS,
    FIXTURE_SIZE,
    SAMPLE_RATE,
    beckett_speech,
    build_once,
    load_audio,
    make_talking_head_video,
    measure_speech,
    script_words,
)

CACHE_DIR = Path(__file__).parent / ".cache"
PAUSE_MIN_S = 1.0  # the metrics contract: a gap >= 1 s is a pause, >= 2 s a long one
LEAD_IN_S = 0.6  # silence before the first and after the last unit, as in a real recording
SENTENCE_GAP_S = 0.35  # between a unit ending a sentence and the next one
PHRASE_GAP_S = 0.08  # between units inside a sentence
FILLER_GAP_S = 0.3  # around a filler: hesitations are set off by short silences
FILLER_RATE_FACTOR = 0.6  # fillers are drawn out: spoken at 60% of the clip's rate
TRIM_BELOW_PEAK_DB = 40.0
BECKETT_HIGHPASS_HZ = 80.0  # a unit's edge frames more than this below its loudest 10 ms frame are silence


@dataclass(frozen=True)
class Say:
    """A phrase spoken as one espeak-ng utterance."""

    text: str


@dataclass(frozen=True)
class Um:
    """A filler (um, uh, you know, like, ...) spoken as its own unit, drawn out, set off by short silences."""

    text: str


@dataclass(frozen=True)
class Gap:
    """A silence of exactly this many seconds (replaces the default join)."""

    seconds: float


@dataclass(frozen=True)
class ClipSpec:
    name: str
    voice: str
    wpm: int
    units: tuple
    face_out: tuple[tuple[float, float], ...] = ()  # face out of frame in these intervals (clip seconds)


@dataclass(frozen=True)
class FillerTruth:
    word: str  # normalised: "um", "uh", "you know", "like", ...
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ClipTruth:
    name: str
    path: str
    voice: str
    rate_wpm: int
    duration_s: float
    words: tuple[str, ...]  # every spoken token, fillers included, lowercase
    fillers: tuple[FillerTruth, ...]
    pauses: tuple[tuple[float, float], ...]  # silences >= PAUSE_MIN_S between speech
    speaking_time_s: float  # first word start to last word end minus the pauses
    pace_wpm: float
    face_visible_ratio: float
    face_absent: tuple[tuple[float, float], ...]  # look-away truth: the face is out of frame
    exact: bool  # constructed truth (espeak-ng); False for the real recording


# Scripts: interview and pitch answers with known fillers and pauses. "like" appears both as a filler (its own
# unit, set off) and in its verb and comparison senses inside phrases ("I like", "looks like"), which must not
# be counted. Voices cover espeak-ng's US and British English with male and female variants, 120-190 wpm.
CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec(
        "interview_us_150",
        "en-us",
        150,
        (
            Say("Thanks for having me today."),
            Um("um"),
            Say("I have worked in sales for six years."),
            Gap(2.4),
            Say("In my last role I led a small team,"),
            Um("you know,"),
            Say("and we doubled our revenue."),
            Say("I like working with people."),
        ),
        face_out=((5.0, 8.0),),
    ),
    ClipSpec(
        "pitch_gb_170",
        "en-gb",
        170,
        (
            Say("Our product saves time for busy doctors."),
            Um("uh"),
            Say("It books appointments automatically."),
            Gap(1.5),
            Say("Clinics using it see fewer missed visits,"),
            Um("like"),
            Say("about a third fewer."),
            Gap(2.2),
            Say("It looks like a small change, but it adds up."),
        ),
    ),
    ClipSpec(
        "talk_f3_130",
        "en-us+f3",
        130,
        (
            Say("Good afternoon everyone."),
            Gap(2.0),
            Say("Today I want to talk about habits."),
            Um("um"),
            Say("Small habits shape our days."),
            Gap(1.2),
            Um("uh"),
            Say("and they are easy to start."),
        ),
        face_out=((9.0, 11.5),),
    ),
    ClipSpec(
        "answer_m7_185",
        "en-us+m7",
        185,
        (
            Say("That is a great question."),
            Um("you know"),
            Say("the hardest part was the deadline."),
            Say("We had two weeks to rebuild the system."),
            Gap(2.6),
            Um("um"),
            Say("so we split the work and shipped it on time."),
            Say("I would do it the same way again."),
        ),
        face_out=((3.0, 4.5), (10.0, 12.0)),
    ),
    ClipSpec(
        "story_rp_120",
        "en-gb-x-rp+m3",
        120,
        (
            Say("When I started my first job,"),
            Um("uh"),
            Say("I was very nervous."),
            Gap(1.8),
            Say("My manager said I should ask questions,"),
            Um("like"),
            Say("every single day."),
        ),
    ),
    ClipSpec(
        "review_f2_160",
        "en-gb+f2",
        160,
        (
            Say("The project finished on budget."),
            Gap(3.0),
            Say("We learned three lessons."),
            Um("um"),
            Say("First, plan the testing early."),
            Um("uh"),
            Say("Second, talk to users often."),
            Say("Third, keep the scope small."),
        ),
        face_out=((6.0, 9.0),),
    ),
    ClipSpec(
        "pitch_f5_175",
        "en-us+f5",
        175,
        (
            Say("Imagine never losing your keys again."),
            Um("you know"),
            Say("our tag clips onto anything."),
            Gap(2.1),
            Say("It costs ten dollars,"),
            Um("um"),
            Say("and the battery lasts a year."),
            Say("People like how simple it is."),
        ),
        face_out=((12.0, 20.0),),
    ),
    ClipSpec(
        "interview_m3_140",
        "en-us+m3",
        140,
        (
            Say("I applied because I like hard problems."),
            Gap(1.4),
            Um("um"),
            Say("At university I built a weather station."),
            Um("like"),
            Say("with solar power and sensors."),
            Gap(2.5),
            Say("It taught me to finish what I start."),
        ),
        face_out=((0.0, 2.0), (8.0, 9.5)),
    ),
    ClipSpec(
        "update_gb_190",
        "en-gb",
        190,
        (
            Say("Quick update on the launch."),
            Um("uh"),
            Say("the website is ready and the ads start Monday."),
            Um("you know"),
            Say("the budget is the same as last time."),
            Gap(2.3),
            Say("Sales looks like it will beat the target."),
            Um("um"),
            Say("any questions?"),
        ),
    ),
    ClipSpec(
        "closing_f4_125",
        "en-us+f4",
        125,
        (
            Say("To sum up, we grew every quarter."),
            Gap(1.6),
            Um("um"),
            Say("our customers stayed with us."),
            Gap(2.8),
            Say("Thank you for listening."),
        ),
        face_out=((4.0, 6.5),),
    ),
)
SET_VERSION = "1"


def _espeak(text: str, voice: str, wpm: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "unit.wav")
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", wav, text], check=True, capture_output=True, timeout=60
        )
        return load_audio(wav)


def _trim(audio: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence (10 ms frames more than TRIM_BELOW_PEAK_DB under the peak frame)."""
    hop = SAMPLE_RATE // 100
    n = len(audio) // hop
    rms = np.sqrt(np.mean(audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    db = 20 * np.log10(rms + 1e-12)
    loud = np.flatnonzero(db > db.max() - TRIM_BELOW_PEAK_DB)
    return audio[loud[0] * hop : (loud[-1] + 1) * hop]


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)


def _filler_word(text: str) -> str:
    return " ".join(script_words(text)).lower()


def _assemble(spec: ClipSpec) -> tuple[np.ndarray, ClipTruth]:
    """Synthesise the units and join them; returns the audio and its constructed truth (video path unset)."""
    parts = [_silence(LEAD_IN_S)]
    t = LEAD_IN_S
    words: list[str] = []
    fillers: list[FillerTruth] = []
    pauses: list[tuple[float, float]] = []
    prev = None
    for unit in spec.units:
        if isinstance(unit, Gap):
            parts.append(_silence(unit.seconds))
            if unit.seconds >= PAUSE_MIN_S:
                pauses.append((round(t, 3), round(t + unit.seconds, 3)))
            t += unit.seconds
            prev = unit
            continue
        if prev is not None and not isinstance(prev, Gap):
            join = (
                FILLER_GAP_S
                if isinstance(unit, Um) or isinstance(prev, Um)
                else (SENTENCE_GAP_S if prev.text.rstrip()[-1] in ".?!" else PHRASE_GAP_S)
            )
            parts.append(_silence(join))
            t += join
        rate = int(spec.wpm * FILLER_RATE_FACTOR) if isinstance(unit, Um) else spec.wpm
        audio = _trim(_espeak(unit.text, spec.voice, rate))
        duration = len(audio) / SAMPLE_RATE
        if isinstance(unit, Um):
            fillers.append(FillerTruth(_filler_word(unit.text), round(t, 3), round(t + duration, 3)))
        words.extend(w.lower() for w in script_words(unit.text))
        parts.append(audio)
        t += duration
        prev = unit
    speech_end = t
    parts.append(_silence(LEAD_IN_S))
    audio = np.concatenate(parts)
    # Peak-normalise to -3 dBFS so every voice is heard at a similar level.
    audio = (audio / np.abs(audio).max() * 10 ** (-3 / 20)).astype(np.float32)
    duration_s = len(audio) / SAMPLE_RATE
    speaking = speech_end - LEAD_IN_S - sum(e - s for s, e in pauses)
    absent = tuple((s, min(e, duration_s)) for s, e in spec.face_out)
    truth = ClipTruth(
        name=spec.name,
        path="",
        voice=spec.voice,
        rate_wpm=spec.wpm,
        duration_s=round(duration_s, 3),
        words=tuple(words),
        fillers=tuple(fillers),
        pauses=tuple(pauses),
        speaking_time_s=round(speaking, 3),
        pace_wpm=round(60 * len(words) / speaking, 2),
        face_visible_ratio=round(1 - sum(e - s for s, e in absent) / duration_s, 4),
        face_absent=absent,
        exact=True,
    )
    return audio, truth


def _visible_intervals(absent: tuple[tuple[float, float], ...], duration_s: float) -> list[tuple[float, float]]:
    visible, t = [], 0.0
    for s, e in sorted(absent):
        if s > t:
            visible.append((t, s))
        t = max(t, e)
    if t < duration_s:
        visible.append((t, duration_s))
    return visible


def _build(root: Path) -> list[ClipTruth]:
    w, h = FIXTURE_SIZE
    out = []
    for spec in CLIPS:
        audio, truth = _assemble(spec)
        path = root / f"{spec.name}.mp4"
        make_talking_head_video(
            path,
            audio,
            container="mp4",
            width=w,
            height=h,
            fps=FIXTURE_FPS,
            face_visible=_visible_intervals(truth.face_absent, truth.duration_s),
        )
        out.append(replace(truth, path=str(path)))
    recording = beckett_speech()
    # The recording carries mains hum and rumble (35-66 Hz) that would hold every silence above the silence
    # rule's threshold; measure the truth on the audio above BECKETT_HIGHPASS_HZ (the video keeps the original).
    sos = scipy.signal.butter(4, BECKETT_HIGHPASS_HZ, "highpass", fs=SAMPLE_RATE, output="sos")
    beckett = measure_speech(scipy.signal.sosfiltfilt(sos, recording.audio).astype(np.float32), recording.words)
    path = root / "beckett_real.mp4"
    make_talking_head_video(path, recording.audio, container="mp4", width=w, height=h, fps=FIXTURE_FPS)
    out.append(
        ClipTruth(
            name="beckett_real",
            path=str(path),
            voice="real recording",
            rate_wpm=0,
            duration_s=round(beckett.duration_s, 3),
            words=tuple(x.lower() for x in script_words(BECKETT_TEXT)),
            fillers=(),
            pauses=beckett.pauses,
            speaking_time_s=beckett.speaking_time_s,
            pace_wpm=beckett.pace_wpm,
            face_visible_ratio=1.0,
            face_absent=(),
            exact=False,
        )
    )
    return out


def _cache_key() -> str:
    spec = [SET_VERSION, repr(CLIPS), Path(__file__).read_text(), FIXTURE_SIZE, FIXTURE_FPS]
    return hashlib.sha256(json.dumps(spec, default=str).encode()).hexdigest()[:16]


def _from_json(d: dict) -> ClipTruth:
    d["fillers"] = tuple(FillerTruth(**f) for f in d["fillers"])
    for key in ("words",):
        d[key] = tuple(d[key])
    for key in ("pauses", "face_absent"):
        d[key] = tuple(tuple(x) for x in d[key])
    return ClipTruth(**d)


def labelled_set(root: str | os.PathLike = CACHE_DIR) -> list[ClipTruth]:
    """The clips with their truth, built once under root and reused while this module is unchanged."""
    root = Path(root)
    data = build_once(
        root / f"labelled_set_{_cache_key()}.json",
        lambda: [asdict(c) for c in _build(root)],
        lambda d: all(os.path.exists(c["path"]) for c in d),
    )
    return [_from_json(d) for d in data]


if __name__ == "__main__":
    for clip in labelled_set():
        print(
            f"{clip.name:18s} {clip.duration_s:5.1f} s  {len(clip.words):3d} words  {clip.pace_wpm:6.1f} wpm  "
            f"fillers={[f.word for f in clip.fillers]} pauses={clip.pauses} face_absent={clip.face_absent}"
        )
