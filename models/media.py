"""Decode an uploaded video into 16 kHz mono audio and a few RGB frames per second.

The upload is untrusted: the container is judged from its bytes (never the file name), FFmpeg is held to
the one demuxer that matches those bytes and to the uploaded file only (no references to other files or
URLs), and size, duration and decode-time limits stop hostile input before it costs much.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np

from models.errors import InvalidMedia, MediaLimitExceeded, UnsupportedMediaType

SAMPLE_RATE = 16000

_ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = b"\x42\x82"
# Container -> FFmpeg demuxer. webm is a Matroska profile; mp4 and mov share one demuxer.
_DEMUXER = {"mp4": "mov", "mov": "mov", "webm": "matroska", "mkv": "matroska", "avi": "avi"}
# Keep FFmpeg on the uploaded bytes: no other protocols (http, concat, ...) and no QuickTime data
# references, which can point a mov at any file on the server.
_OPEN_OPTIONS = {"protocol_whitelist": "file", "enable_drefs": "0", "use_absolute_path": "0"}
_DAMAGED = "it is damaged or incomplete."
_UNSUPPORTED = "Unsupported file type: upload an mp4, mov, webm, mkv or avi video."


@dataclass(frozen=True)
class DecodedMedia:
    audio: np.ndarray  # float32 mono 16 kHz in [-1, 1], shape (n,); (0,) when no audio track
    sample_rate: int
    frames: np.ndarray  # uint8 RGB (N, H, W, 3); (0, 0, 0, 3) when no video track
    frame_times_s: np.ndarray  # float64 (N,), presentation time of each sampled frame
    duration_s: float
    has_audio: bool
    has_video: bool
    container: str  # "mp4" | "mov" | "webm" | "mkv" | "avi", judged from the bytes
    source_width: int
    source_height: int
    source_fps: float | None


def _read_head(source: str | BinaryIO, size: int = 4096) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return f.read(size)
    head = source.read(size)
    source.seek(0)
    return head


def sniff_container(source: str | BinaryIO) -> str:
    """Name the container from the file's leading bytes; raise UnsupportedMediaType for anything else."""
    try:
        head = _read_head(source)
    except OSError:
        raise InvalidMedia("The uploaded file could not be read.") from None
    if not head:
        raise InvalidMedia("The uploaded file is empty.")
    if len(head) >= 12 and head[4:8] in _ISO_BMFF_BOXES:
        if head[4:8] == b"ftyp":
            return "mov" if head[8:12] == b"qt  " else "mp4"
        return "mov"  # classic QuickTime files may start without an ftyp box
    if head.startswith(_EBML_MAGIC):
        return "webm" if _ebml_doctype(head) == b"webm" else "mkv"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    raise UnsupportedMediaType(_UNSUPPORTED)


def _ebml_doctype(head: bytes) -> bytes | None:
    """Read the DocType string from the EBML header (element 0x4282, size as an EBML varint)."""
    i = head.find(_EBML_DOCTYPE_ID, 4, 64)
    if i < 0 or i + 2 >= len(head):
        return None
    first = head[i + 2]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        return None
    size = first & (0xFF >> length)
    for b in head[i + 3 : i + 2 + length]:
        size = (size << 8) | b
    start = i + 2 + length
    return head[start : start + size].rstrip(b"\x00")


def _scaled_size(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """Fit the longest side into max_side_px, keep the aspect ratio, round to even dimensions."""
    scale = min(1.0, max_side_px / max(width, height))
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise MediaLimitExceeded(f"The video resolution {width}x{height} is over the limit of {max_pixels} pixels.")


def decode_media(
    source: str | BinaryIO,
    *,
    frame_rate_hz: float = 8.0,
    max_side_px: int = 640,
    max_duration_s: float = 1800,
    max_pixels: int = 4096 * 4096,
    max_decode_s: float = 120,
) -> DecodedMedia:
    """Decode audio (mono 16 kHz float32) and video frames sampled at frame_rate_hz, in one pass over the file.

    `source` is a path or a seekable binary file (the ingress passes the multipart parser's spooled upload, so
    the upload is never copied again).

    Sampling follows presentation time, not frame count, so variable-frame-rate phone and browser recordings
    are sampled evenly: for each instant k / frame_rate_hz the first frame whose time reaches it is kept, with
    its own timestamp. Only kept frames are converted to RGB. Frames take about 0.7 MB each at 640x360, so
    frame_rate_hz * max_duration_s bounds the memory one call can use.
    """
    container_name = sniff_container(source)
    if isinstance(source, tempfile.SpooledTemporaryFile):
        source.rollover()  # PyAV calls fileno(), which rolls an in-memory spool over mid-open and loses the stream
    try:
        container = av.open(source, format=_DEMUXER[container_name], options=dict(_OPEN_OPTIONS))
    except av.error.FFmpegError:
        raise InvalidMedia(f"The uploaded {container_name} file could not be opened: {_DAMAGED}") from None
    try:
        with container:
            return _decode(
                container, container_name, frame_rate_hz, max_side_px, max_duration_s, max_pixels, max_decode_s
            )
    except (av.error.FFmpegError, ValueError, OverflowError):
        raise InvalidMedia(f"The uploaded {container_name} file could not be decoded: {_DAMAGED}") from None


def _decode(
    container: av.container.InputContainer,
    container_name: str,
    frame_rate_hz: float,
    max_side_px: int,
    max_duration_s: float,
    max_pixels: int,
    max_decode_s: float,
) -> DecodedMedia:
    video = next(iter(container.streams.video), None)
    audio = next(iter(container.streams.audio), None)
    if video is None and audio is None:
        raise InvalidMedia("The uploaded file has neither a video nor an audio track.")

    container_duration_s = container.duration / av.time_base if (container.duration or 0) > 0 else None
    if container_duration_s is not None and container_duration_s > max_duration_s:
        raise MediaLimitExceeded(f"The video is longer than the limit of {max_duration_s:g} seconds.")
    # Times are reported from the container's start so audio samples and frame times share one origin.
    origin_s = container.start_time / av.time_base if (container.start_time or 0) > 0 else 0.0

    source_width = source_height = 0
    source_fps = None
    if video is not None:
        source_width, source_height = video.codec_context.width, video.codec_context.height
        _check_pixels(source_width, source_height, max_pixels)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        source_fps = float(rate) if rate and 0 < float(rate) < 1000 else None
        video.thread_type = "AUTO"
    if audio is not None:
        audio.thread_type = "AUTO"

    streams = [s for s in (video, audio) if s is not None]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE) if audio is not None else None
    audio_chunks: list[np.ndarray] = []
    audio_samples = 0
    audio_start_s: float | None = None
    frames: list[np.ndarray] = []
    frame_times: list[float] = []
    next_instant = 0  # index k of the next sampling instant k / frame_rate_hz
    last_video_s: float | None = None
    out_size: tuple[int, int] | None = None
    deadline = time.monotonic() + max_decode_s

    def check_limits(t_s: float) -> None:
        if t_s > max_duration_s:
            raise MediaLimitExceeded(f"The video is longer than the limit of {max_duration_s:g} seconds.")
        if time.monotonic() > deadline:
            raise MediaLimitExceeded(f"Decoding took longer than the limit of {max_decode_s:g} seconds.")

    for packet in container.demux(*streams):
        for frame in packet.decode():
            if packet.stream is audio:
                if audio_start_s is None and frame.time is not None:
                    audio_start_s = max(0.0, frame.time - origin_s)
                for chunk in resampler.resample(frame):
                    audio_chunks.append(chunk.to_ndarray().reshape(-1))
                    audio_samples += audio_chunks[-1].size
                check_limits((audio_start_s or 0.0) + audio_samples / SAMPLE_RATE)
                continue
            # Missing pts: step on from the previous frame at the nominal rate.
            if frame.time is not None:
                t_s = max(0.0, frame.time - origin_s)
            elif last_video_s is not None:
                t_s = last_video_s + 1.0 / (source_fps or 25.0)
            else:
                t_s = 0.0
            last_video_s = t_s if last_video_s is None else max(last_video_s, t_s)
            check_limits(t_s)
            if t_s + 1e-6 < next_instant / frame_rate_hz:
                continue
            next_instant = math.floor(t_s * frame_rate_hz + 1e-6) + 1
            quarter_turns = int(round((frame.rotation or 0) / 90)) % 4
            if out_size is None:
                # Headers may omit or understate the size; the decoded frame is the truth.
                _check_pixels(frame.width, frame.height, max_pixels)
                source_width, source_height = frame.width, frame.height
                out_size = _scaled_size(frame.width, frame.height, max_side_px)
                if quarter_turns % 2:
                    source_width, source_height = source_height, source_width
            rgb = frame.reformat(width=out_size[0], height=out_size[1], format="rgb24").to_ndarray()
            frames.append(np.ascontiguousarray(np.rot90(rgb, quarter_turns)) if quarter_turns else rgb)
            frame_times.append(t_s)
    if resampler is not None:
        audio_chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))

    has_audio = audio is not None
    samples = np.concatenate(audio_chunks) if audio_chunks else np.zeros(0, np.float32)
    if audio_start_s and samples.size:
        samples = np.concatenate([np.zeros(int(round(audio_start_s * SAMPLE_RATE)), np.float32), samples])
    np.clip(samples, -1.0, 1.0, out=samples)
    if video is not None and not frames:
        raise InvalidMedia("The uploaded video track has no decodable frames.")
    if has_audio and not samples.size and video is None:
        raise InvalidMedia("The uploaded audio track has no decodable samples.")

    decoded_s = max(
        samples.size / SAMPLE_RATE,
        (last_video_s + 1.0 / (source_fps or frame_rate_hz)) if last_video_s is not None else 0.0,
    )
    # A file cut off mid-upload still demuxes up to the cut; its header promises more than the data holds.
    if container_duration_s is not None and decoded_s < 0.9 * container_duration_s - 0.5:
        raise InvalidMedia(f"The uploaded {container_name} file is incomplete: it ends before its stated duration.")
    duration_s = max(decoded_s, container_duration_s or 0.0)
    if duration_s > max_duration_s:
        raise MediaLimitExceeded(f"The video is longer than the limit of {max_duration_s:g} seconds.")
    return DecodedMedia(
        audio=samples,
        sample_rate=SAMPLE_RATE,
        frames=np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8),
        frame_times_s=np.asarray(frame_times, dtype=np.float64),
        duration_s=float(duration_s),
        has_audio=has_audio,
        has_video=video is not None,
        container=container_name,
        source_width=int(source_width),
        source_height=int(source_height),
        source_fps=source_fps,
    )
