"""Build real talking-head test videos with known ground truth (words, pace, pauses, face visibility).

Speech is either espeak-ng reading a script (every word and pause known) or a real recording; the picture is a
real portrait photo with a small head sway so consecutive frames differ. Fixtures are cached on disk because
encoding costs seconds and every test session would otherwise pay it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

ASSETS = Path(__file__).parent / "assets"
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "tests" / ".fixtures"  # built once, git-ignored
PORTRAIT_PNG = ASSETS / "portrait_astronaut.png"
BECKETT_WAV = ASSETS / "speech_beckett.wav"
BECKETT_TEXT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
SAMPLE_RATE = 16000
CONTAINERS = ("mp4", "mov", "mkv", "webm", "avi")

# Silence rule for ground truth: 10 ms frames; a frame is silent when its RMS is more than SILENCE_BELOW_PEAK_DB
# below the loudest frame's RMS; a run of silent frames lasting >= MIN_GAP_S is a silent gap. espeak-ng writes
# digital zeros between phrases, so its gaps are exact to the frame (10 ms).
FRAME_S = 0.01
SILENCE_BELOW_PEAK_DB = 35.0
MIN_GAP_S = 0.25
PAUSE_MIN_S = 1.0  # a "pause" in the metrics contract: a gap >= 1 s (>= 2 s is long)

# Codecs per container: (format, video codec, video options, audio codec, audio rate).
_CODECS = {
    "mp4": ("mp4", "libx264", {"preset": "ultrafast", "tune": "zerolatency"}, "aac", 16000),
    "mov": ("mov", "libx264", {"preset": "ultrafast", "tune": "zerolatency"}, "aac", 16000),
    "mkv": ("matroska", "libx264", {"preset": "ultrafast", "tune": "zerolatency"}, "libopus", 48000),
    "webm": (
        "webm",
        "libvpx-vp9",
        {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "crf": "40", "b": "0"},
        "libopus",
        48000,
    ),
    "avi": ("avi", "mpeg4", {"qscale": "6"}, "pcm_s16le", 16000),
}


@dataclass(frozen=True)
class SpeechTruth:
    """Audio with what is known about it. Times in seconds from the start of the audio."""

    audio: np.ndarray  # float32 mono 16 kHz
    words: tuple[str, ...]
    word_count: int
    duration_s: float
    speech_start_s: float  # first non-silent frame
    speech_end_s: float  # end of the last non-silent frame
    silent_gaps: tuple[tuple[float, float], ...]  # every silent run >= MIN_GAP_S between speech
    pauses: tuple[tuple[float, float], ...]  # the silent gaps >= PAUSE_MIN_S
    speaking_time_s: float  # speech_end - speech_start - sum(pauses): the definition in docs/results.md
    pace_wpm: float  # word_count / speaking_time_s * 60


@dataclass(frozen=True)
class VideoFixture:
    """One test video on disk and its ground truth."""

    path: str
    container: str
    duration_s: float
    has_audio: bool
    words: tuple[str, ...]  # empty when there is no audio track
    word_count: int
    pace_wpm: float | None  # None when there is no audio track
    speaking_time_s: float | None
    pauses: tuple[tuple[float, float], ...]
    silent_gaps: tuple[tuple[float, float], ...]
    face_visible: tuple[tuple[float, float], ...]  # intervals where the face is in frame; () = never
    width: int
    height: int
    fps: int
    exact_truth: bool  # True for espeak-ng speech; the real recording's timings come from the energy rule


def script_words(text: str) -> tuple[str, ...]:
    """The spoken words of a script: markup removed, punctuation stripped, apostrophes kept."""
    text = re.sub(r"<[^>]+>", " ", text)
    return tuple(w for w in (re.sub(r"[^\w']", "", t) for t in text.split()) if w)


def load_audio(path: str | os.PathLike) -> np.ndarray:
    """Any audio file -> float32 mono 16 kHz, resampled by FFmpeg (PyAV)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


def measure_speech(audio: np.ndarray, words: tuple[str, ...]) -> SpeechTruth:
    """Ground truth timings from the waveform, using the silence rule documented at the top of this module."""
    hop = int(FRAME_S * SAMPLE_RATE)
    n = len(audio) // hop
    rms = np.sqrt(np.mean(audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    db = 20 * np.log10(rms + 1e-12)
    voiced = db > db.max() - SILENCE_BELOW_PEAK_DB
    idx = np.flatnonzero(voiced)
    first, last = int(idx[0]), int(idx[-1]) + 1
    gaps = []
    run_start = None
    for i in range(first, last + 1):
        if i < last and not voiced[i]:
            run_start = i if run_start is None else run_start
        elif run_start is not None:
            if (i - run_start) * FRAME_S >= MIN_GAP_S - 1e-9:
                gaps.append((round(run_start * FRAME_S, 3), round(i * FRAME_S, 3)))
            run_start = None
    pauses = tuple(g for g in gaps if g[1] - g[0] >= PAUSE_MIN_S)
    speaking = (last - first) * FRAME_S - sum(e - s for s, e in pauses)
    return SpeechTruth(
        audio=audio,
        words=words,
        word_count=len(words),
        duration_s=len(audio) / SAMPLE_RATE,
        speech_start_s=round(first * FRAME_S, 3),
        speech_end_s=round(last * FRAME_S, 3),
        silent_gaps=tuple(gaps),
        pauses=pauses,
        speaking_time_s=round(speaking, 3),
        pace_wpm=round(len(words) / speaking * 60, 2),
    )


def synthesize_script(
    sentences: list[str], *, pauses_ms: dict[int, int] | None = None, wpm: int = 150, voice: str = "en-us"
) -> SpeechTruth:
    """espeak-ng reads the sentences; pauses_ms[i] inserts an SSML break of that length after sentence i."""
    pauses_ms = pauses_ms or {}
    parts = []
    for i, sentence in enumerate(sentences):
        parts.append(sentence)
        if i in pauses_ms:
            parts.append(f'<break time="{int(pauses_ms[i])}ms"/>')
    ssml = "<speak>" + " ".join(parts) + "</speak>"
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(wpm), "-m", "-w", wav, ssml],
            check=True,
            capture_output=True,
            timeout=60,
        )
        audio = load_audio(wav)
    return measure_speech(audio, script_words(" ".join(sentences)))


def beckett_speech() -> SpeechTruth:
    """The real recording in testkit/assets, with timings measured by the same energy rule (approximate)."""
    return measure_speech(load_audio(BECKETT_WAV), script_words(BECKETT_TEXT))


def _background(width: int, height: int) -> np.ndarray:
    """A plain wall: a soft vertical grey-blue gradient with no face or edges in it."""
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([196, 204, 212], np.float32), np.array([150, 160, 172], np.float32)
    return np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3)).astype(np.uint8)


def _portrait_layer(width: int, height: int) -> np.ndarray:
    """The portrait cropped to the frame's aspect ratio from the top and scaled to fill the frame: a head-and-
    shoulders webcam shot. Letterboxing the whole photo instead leaves the face too small for MediaPipe."""
    img = cv2.cvtColor(cv2.imread(str(PORTRAIT_PNG), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    crop_w = min(img.shape[1], int(round(img.shape[0] * width / height)))
    crop_h = int(round(crop_w * height / width))
    x0 = (img.shape[1] - crop_w) // 2
    return cv2.resize(img[:crop_h, x0 : x0 + crop_w], (width, height), interpolation=cv2.INTER_AREA)


def _visible(t_s: float, intervals: tuple[tuple[float, float], ...]) -> bool:
    return any(start <= t_s < end for start, end in intervals)


def make_talking_head_video(
    path: str | os.PathLike,
    audio: np.ndarray | None,
    *,
    container: str,
    face_visible: list[tuple[float, float]] | None = None,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    with_audio: bool = True,
    duration_s: float | None = None,
) -> tuple[tuple[float, float], ...]:
    """Encode the portrait with a gentle head sway over the audio; returns the face-visible intervals.

    face_visible=None keeps the face in frame throughout; outside the given intervals the frame shows only the
    empty background. The video lasts as long as the audio unless duration_s is given.
    """
    fmt, vcodec, vopts, acodec, arate = _CODECS[container]
    duration_s = duration_s if duration_s is not None else len(audio) / SAMPLE_RATE
    n_frames = int(math.ceil(duration_s * fps))
    visible = ((0.0, n_frames / fps),) if face_visible is None else tuple((float(s), float(e)) for s, e in face_visible)
    portrait = _portrait_layer(width, height)
    background = cv2.cvtColor(_background(width, height), cv2.COLOR_RGB2YUV_I420)
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(vcodec, rate=fps, options=dict(vopts))
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.thread_type = "AUTO"
        astream = None
        if with_audio and audio is not None:
            astream = out.add_stream(acodec, rate=arate, layout="mono")
        for i in range(n_frames):
            t = i / fps
            if _visible(t, visible):
                angle = 1.5 * math.sin(2 * math.pi * t / 4.7)
                dx, dy = 4 * math.sin(2 * math.pi * t / 3.1), 3 * math.sin(2 * math.pi * t / 2.3 + 1)
                m = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
                m[:, 2] += (dx, dy)
                rgb = cv2.warpAffine(portrait, m, (width, height), borderMode=cv2.BORDER_REFLECT)
                yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)  # ~9x faster than FFmpeg's swscale here
            else:
                yuv = background
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode())
        if astream is not None:
            _mux_audio(out, astream, audio)
    return visible


def make_audio_only_file(path: str | os.PathLike, audio: np.ndarray) -> None:
    """An mp4 (.m4a) with one AAC track and no video, as a phone's voice recorder saves it."""
    with av.open(str(path), "w", format="mp4") as out:
        _mux_audio(out, out.add_stream("aac", rate=SAMPLE_RATE, layout="mono"), audio)


def _mux_audio(out, stream, audio: np.ndarray) -> None:
    pcm = np.clip(np.asarray(audio, np.float32) * 32767, -32768, 32767).astype(np.int16)
    for start in range(0, len(pcm), 1600):
        chunk = av.AudioFrame.from_ndarray(pcm[None, start : start + 1600], format="s16", layout="mono")
        chunk.sample_rate, chunk.pts = SAMPLE_RATE, start
        out.mux(stream.encode(chunk))
    out.mux(stream.encode())


# The scripted talk: ~14 s at 150 wpm with one 2.5 s pause after the second sentence.
SCRIPT_SENTENCES = [
    "Good morning everyone.",
    "Today I will share three results from our team.",
    "First, sales grew faster than we planned.",
    "Second, our customers are happier.",
    "Thank you for listening.",
]
SCRIPT_PAUSES_MS = {1: 2500}
SCRIPT_WPM = 150
FACE_OUT_INTERVALS = ((0.0, 4.0), (7.0, 11.0))  # face in frame; out at 4-7 s and from 11 s on
FIXTURE_SIZE = (960, 540)
FIXTURE_FPS = 25
_FIXTURE_VERSION = "2"


def _fixture(
    path: Path, container: str, speech: SpeechTruth | None, face_visible, duration_s: float, exact: bool
) -> VideoFixture:
    return VideoFixture(
        path=str(path),
        container=container,
        duration_s=round(duration_s, 3),
        has_audio=speech is not None,
        words=speech.words if speech else (),
        word_count=speech.word_count if speech else 0,
        pace_wpm=speech.pace_wpm if speech else None,
        speaking_time_s=speech.speaking_time_s if speech else None,
        pauses=speech.pauses if speech else (),
        silent_gaps=speech.silent_gaps if speech else (),
        face_visible=tuple(face_visible),
        width=FIXTURE_SIZE[0],
        height=FIXTURE_SIZE[1],
        fps=FIXTURE_FPS,
        exact_truth=exact,
    )


def _build_fixture_set(root: Path) -> dict[str, VideoFixture]:
    script = synthesize_script(SCRIPT_SENTENCES, pauses_ms=SCRIPT_PAUSES_MS, wpm=SCRIPT_WPM)
    beckett = beckett_speech()
    w, h = FIXTURE_SIZE
    common = {"width": w, "height": h, "fps": FIXTURE_FPS}
    out: dict[str, VideoFixture] = {}
    for c in CONTAINERS:
        p = root / f"script.{c}"
        vis = make_talking_head_video(p, script.audio, container=c, **common)
        out[f"script_{c}"] = _fixture(p, c, script, vis, script.duration_s, True)
    p = root / "beckett.mp4"
    vis = make_talking_head_video(p, beckett.audio, container="mp4", **common)
    out["beckett_mp4"] = _fixture(p, "mp4", beckett, vis, beckett.duration_s, False)
    p = root / "no_face.mp4"
    make_talking_head_video(p, script.audio, container="mp4", face_visible=[], **common)
    out["no_face_mp4"] = _fixture(p, "mp4", script, (), script.duration_s, True)
    p = root / "no_audio.mp4"
    vis = make_talking_head_video(p, script.audio, container="mp4", with_audio=False, **common)
    out["no_audio_mp4"] = _fixture(p, "mp4", None, vis, script.duration_s, True)
    p = root / "face_out.mp4"
    vis = make_talking_head_video(p, script.audio, container="mp4", face_visible=list(FACE_OUT_INTERVALS), **common)
    out["face_out_mp4"] = _fixture(p, "mp4", script, vis, script.duration_s, True)
    return out


def _cache_key() -> str:
    spec = [
        _FIXTURE_VERSION,
        SCRIPT_SENTENCES,
        SCRIPT_PAUSES_MS,
        SCRIPT_WPM,
        FACE_OUT_INTERVALS,
        FIXTURE_SIZE,
        FIXTURE_FPS,
        repr(_CODECS),
        Path(__file__).read_text(),
    ]
    return hashlib.sha256(json.dumps(spec, default=str).encode()).hexdigest()[:16]


def build_once(manifest: Path, build: Callable[[], Any], is_current: Callable[[Any], bool]) -> Any:
    """build()'s JSON-able result, written to manifest and reused while is_current(it) holds (its files exist).
    A lock file next to the manifest makes concurrent sessions wait for one build instead of racing on the files."""
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists():
            data = json.loads(manifest.read_text())
            if is_current(data):
                return data
        data = build()
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, manifest)
        return data


def fixture_set(root: str | os.PathLike) -> dict[str, VideoFixture]:
    """The talking-head videos, built once under root and reused while this module and its inputs are unchanged."""
    root = Path(root)
    data = build_once(
        root / f"talking_head_{_cache_key()}.json",
        lambda: {k: asdict(v) for k, v in _build_fixture_set(root).items()},
        lambda d: all(os.path.exists(v["path"]) and os.path.getsize(v["path"]) > 0 for v in d.values()),
    )
    return {k: VideoFixture(**_untuple(v)) for k, v in data.items()}


def _untuple(d: dict) -> dict:
    """JSON turns tuples into lists; restore the frozen dataclass's tuple fields."""
    for key in ("words", "pauses", "silent_gaps", "face_visible"):
        d[key] = tuple(tuple(x) if isinstance(x, list) else x for x in d[key])
    return d
