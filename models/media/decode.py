"""Decode an uploaded video into 16 kHz mono audio and a few RGB frames per second.

The upload is untrusted: the container is judged from its bytes (never the file name), FFmpeg is held to
the one demuxer that matches those bytes and to the uploaded file only (no references to other files or
URLs), and size, duration and decode-time limits stop hostile input before it costs much.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import av
import numpy as np

from softskills.models.errors import InvalidMedia, MediaLimitExceeded, UnsupportedMediaType

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
VIDEO_DECODERS = ("auto", "cpu", "cuda")

_ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = b"\x42\x82"
# Container -> FFmpeg demuxer. webm is a Matroska profile; mp4 and mov share one demuxer.
_DEMUXER = {"mp4": "mov", "mov": "mov", "webm": "matroska", "mkv": "matroska", "avi": "avi"}
# Keep FFmpeg on the uploaded bytes: no other protocols (http, concat, ...) and no QuickTime data
# references, which can point a mov at any file on the server.
_OPEN_OPTIONS = {"protocol_whitelist": "file", "enable_drefs": "0", "use_absolute_path": "0"}
# ... and to its one demuxer, also for anything a demuxer would open nested inside the file.
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
    """Audio (mono 16 kHz float32) and every sampled frame at once, for tools and tests that want the whole video.

    It runs the same two passes the ingress streams (`decode_audio`, then `VideoFrames`), so both paths share one
    sampling rule and one set of limits. `source` is a path or a seekable binary file. Frames take about 0.7 MB
    each at 640x360, so frame_rate_hz * max_duration_s bounds the memory one call can use.
    """
    audio = decode_audio(source, max_duration_s=max_duration_s, max_decode_s=max_decode_s)
    video = VideoFrames(
        source,
        frame_rate_hz=frame_rate_hz,
        max_side_px=max_side_px,
        chunk_s=math.inf,
        max_duration_s=max_duration_s,
        max_pixels=max_pixels,
        max_decode_s=max_decode_s,
    )
    chunks = list(video)
    info = media_info(audio, video)
    return DecodedMedia(
        audio=audio.audio,
        sample_rate=audio.sample_rate,
        frames=np.concatenate([c.frames for c in chunks]) if chunks else np.zeros((0, 0, 0, 3), np.uint8),
        frame_times_s=np.concatenate([c.frame_times_s for c in chunks]) if chunks else np.zeros(0, np.float64),
        duration_s=info.duration_s,
        has_audio=info.has_audio,
        has_video=info.has_video,
        container=info.container,
        source_width=info.source_width,
        source_height=info.source_height,
        source_fps=info.source_fps,
    )


# Streaming decode: the ingress overlaps decoding with the models. Audio comes first in its own fast pass (video
# packets are demuxed but never decoded) so speech-to-text starts at once; frames then arrive in time chunks that
# go to the landmark deployment while the rest of the video is still decoding.


@dataclass(frozen=True)
class DecodedAudio:
    audio: np.ndarray  # float32 mono 16 kHz in [-1, 1]; (0,) when no audio track
    sample_rate: int
    has_audio: bool
    has_video: bool
    container: str
    container_duration_s: float | None


@dataclass(frozen=True)
class FrameChunk:
    frames: np.ndarray  # uint8 RGB (N, H, W, 3)
    frame_times_s: np.ndarray  # float64 (N,)


@dataclass(frozen=True)
class MediaInfo:
    """What the metrics read about a video whose frames were streamed to the models instead of kept."""

    duration_s: float
    has_audio: bool
    has_video: bool
    container: str
    source_width: int
    source_height: int
    source_fps: float | None
    frame_count: int


def _rewind(source: str | BinaryIO) -> None:
    """Each pass starts from the top of the same spooled upload and leaves it there for whoever reads it next."""
    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)


@functools.cache
def choose_video_decoder(requested: str) -> str:
    """ "cuda" (the GPU's video decoder, NVDEC, through PyAV's hardware acceleration) or "cpu". `requested`: auto |
    cpu | cuda; auto and cuda decode on the GPU when PyAV's FFmpeg lists a cuda device type and a CUDA device can
    actually be opened, else on the CPU, with one log line per process (a warning when cuda was asked for)."""
    if requested not in VIDEO_DECODERS:
        raise ValueError(f"video decoder must be one of {VIDEO_DECODERS}, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    from av.codec.hwaccel import hwdevices_available

    if "cuda" not in hwdevices_available():
        reason = f"PyAV's FFmpeg has no cuda device type (it has {hwdevices_available()})"
    else:
        try:
            _cuda_acceleration().create(av.codec.Codec("h264", "r"))
        except (av.error.FFmpegError, OSError, RuntimeError, ValueError) as error:
            reason = f"no CUDA device could be opened ({error})"
        else:
            log.info("video decoder: cuda (the GPU's NVDEC through FFmpeg)")
            return "cuda"
    log.log(logging.WARNING if requested == "cuda" else logging.INFO, "video decoder: %s; decoding on the CPU", reason)
    return "cpu"


def _cuda_acceleration():
    """FFmpeg's CUDA decoder for every video stream; frames come back to system memory, and a stream NVDEC cannot
    decode (a codec or profile it lacks) is decoded in software by FFmpeg itself."""
    from av.codec.hwaccel import HWAccel

    return HWAccel("cuda", allow_software_fallback=True)


def _open_upload(source: str | BinaryIO, hwaccel=None) -> tuple[av.container.InputContainer, str]:
    _rewind(source)
    container_name = sniff_container(source)
    if isinstance(source, tempfile.SpooledTemporaryFile):
        source.rollover()
    try:
        demuxer = _DEMUXER[container_name]
        options = {**_OPEN_OPTIONS, "format_whitelist": demuxer}
        return av.open(source, format=demuxer, options=options, hwaccel=hwaccel), container_name
    except av.error.FFmpegError:
        raise InvalidMedia(f"The uploaded {container_name} file could not be opened: {_DAMAGED}") from None


def _container_timing(container: av.container.InputContainer, max_duration_s: float) -> tuple[float | None, float]:
    """(stated duration, time origin); a stated duration over the limit stops the upload before any decoding."""
    duration_s = container.duration / av.time_base if (container.duration or 0) > 0 else None
    if duration_s is not None and duration_s > max_duration_s:
        raise MediaLimitExceeded(f"The video is longer than the limit of {max_duration_s:g} seconds.")
    return duration_s, container.start_time / av.time_base if (container.start_time or 0) > 0 else 0.0


def _limit_checker(max_duration_s: float, max_decode_s: float):
    deadline = time.monotonic() + max_decode_s

    def check(t_s: float) -> None:
        if t_s > max_duration_s:
            raise MediaLimitExceeded(f"The video is longer than the limit of {max_duration_s:g} seconds.")
        if time.monotonic() > deadline:
            raise MediaLimitExceeded(f"Decoding took longer than the limit of {max_decode_s:g} seconds.")

    return check


def decode_audio(source: str | BinaryIO, *, max_duration_s: float = 1800, max_decode_s: float = 120) -> DecodedAudio:
    """The audio track alone, mono 16 kHz float32, in a pass that never decodes video (~0.15 s for 43 s of 720p)."""
    container, container_name = _open_upload(source)
    try:
        with container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            if video is None and audio is None:
                raise InvalidMedia("The uploaded file has neither a video nor an audio track.")
            stated_s, origin_s = _container_timing(container, max_duration_s)
            samples = np.zeros(0, np.float32)
            if audio is not None:
                samples = _decode_audio_track(container, audio, origin_s, _limit_checker(max_duration_s, max_decode_s))
    except (av.error.FFmpegError, ValueError, OverflowError):
        raise InvalidMedia(f"The uploaded {container_name} file could not be decoded: {_DAMAGED}") from None
    finally:
        _rewind(source)
    return DecodedAudio(samples, SAMPLE_RATE, audio is not None, video is not None, container_name, stated_s)


def _decode_audio_track(container, audio, origin_s: float, check_limits) -> np.ndarray:
    audio.thread_type = "AUTO"
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    n_samples = 0
    start_s: float | None = None
    for packet in container.demux(audio):
        for frame in packet.decode():
            if start_s is None and frame.time is not None:
                start_s = max(0.0, frame.time - origin_s)
            for chunk in resampler.resample(frame):
                chunks.append(chunk.to_ndarray().reshape(-1))
                n_samples += chunks[-1].size
            check_limits((start_s or 0.0) + n_samples / SAMPLE_RATE)
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if start_s and samples.size:
        samples = np.concatenate([np.zeros(int(round(start_s * SAMPLE_RATE)), np.float32), samples])
    return np.clip(samples, -1.0, 1.0, out=samples)


class VideoFrames:
    """Frames sampled at frame_rate_hz (same rule as decode_media), yielded as FrameChunks of about chunk_s
    seconds. After the iteration, the source size and rate and the decoded length describe the video, and
    `decoder` says which decoder produced the frames ("cuda" or "cpu").

    `video_decoder` (auto | cpu | cuda, see choose_video_decoder) picks the GPU's decoder where there is one. Any
    failure on it is logged and the file is decoded again on the CPU, which then decides whether the file is bad;
    the chunks already yielded are not yielded again (sampling depends on frame times only, so both passes sample
    the same instants), and the decode-time limit covers both passes."""

    def __init__(
        self,
        source: str | BinaryIO,
        *,
        frame_rate_hz: float = 8.0,
        max_side_px: int = 640,
        chunk_s: float = 10.0,
        max_duration_s: float = 1800,
        max_pixels: int = 4096 * 4096,
        max_decode_s: float = 120,
        video_decoder: str = "cpu",
    ):
        self._source = source
        self.frame_rate_hz, self.max_side_px, self.chunk_s = frame_rate_hz, max_side_px, chunk_s
        self.max_duration_s, self.max_pixels, self.max_decode_s = max_duration_s, max_pixels, max_decode_s
        if video_decoder not in VIDEO_DECODERS:
            raise ValueError(f"video decoder must be one of {VIDEO_DECODERS}, got {video_decoder!r}")
        self._video_decoder = video_decoder
        self.decoder: str | None = None  # "cuda" | "cpu", once iterated
        self.source_width = self.source_height = self.frame_count = 0
        self.source_fps: float | None = None
        self.last_frame_s: float | None = None
        self._yielded_until_s: float | None = None

    def __iter__(self) -> Iterator[FrameChunk]:
        check_limits = _limit_checker(self.max_duration_s, self.max_decode_s)
        self._yielded_until_s = None
        self.decoder = choose_video_decoder(self._video_decoder)  # here, in the caller's worker thread: it may probe
        if self.decoder == "cuda":
            try:
                yield from self._pass(check_limits, _cuda_acceleration())
                return
            except MediaLimitExceeded:
                raise
            except Exception:  # noqa: BLE001 - whatever fails on the GPU's decoder, the CPU decides about the file
                log.warning(
                    "video decoder cuda failed after %s s of sampled frames; decoding this file on the CPU",
                    f"{self._yielded_until_s:.2f}" if self._yielded_until_s is not None else "0",
                    exc_info=True,
                )
                self.decoder = "cpu"
        yield from self._pass(check_limits, None)

    def _pass(self, check_limits, hwaccel) -> Iterator[FrameChunk]:
        container, container_name = _open_upload(self._source, hwaccel)
        try:
            with container:
                yield from self._chunks(container, check_limits)
        except (av.error.FFmpegError, ValueError, OverflowError):
            raise InvalidMedia(f"The uploaded {container_name} file could not be decoded: {_DAMAGED}") from None
        finally:
            _rewind(self._source)

    def _chunks(self, container, check_limits) -> Iterator[FrameChunk]:
        video = next(iter(container.streams.video), None)
        if video is None:
            return
        _, origin_s = _container_timing(container, self.max_duration_s)
        self.source_width, self.source_height = video.codec_context.width, video.codec_context.height
        _check_pixels(self.source_width, self.source_height, self.max_pixels)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        self.source_fps = float(rate) if rate and 0 < float(rate) < 1000 else None
        self.last_frame_s = None
        video.thread_type = "AUTO"
        frames: list[np.ndarray | None] = []
        times: list[float] = []
        next_instant = 0
        out_size: tuple[int, int] | None = None
        chunk_end_s = self.chunk_s
        checked_size = None
        for packet in container.demux(video):
            for frame in packet.decode():
                if (frame.width, frame.height) != checked_size:  # every size change, not only the first frame's
                    _check_pixels(frame.width, frame.height, self.max_pixels)
                    checked_size = (frame.width, frame.height)
                if frame.time is not None:
                    t_s = max(0.0, frame.time - origin_s)
                elif self.last_frame_s is not None:
                    t_s = self.last_frame_s + 1.0 / (self.source_fps or 25.0)
                else:
                    t_s = 0.0
                self.last_frame_s = t_s if self.last_frame_s is None else max(self.last_frame_s, t_s)
                check_limits(t_s)
                if t_s + 1e-6 < next_instant / self.frame_rate_hz:
                    continue
                next_instant = math.floor(t_s * self.frame_rate_hz + 1e-6) + 1
                if t_s >= chunk_end_s and frames:
                    if chunk := self._chunk(frames, times):
                        yield chunk
                    frames, times = [], []
                    chunk_end_s = (math.floor(t_s / self.chunk_s) + 1) * self.chunk_s
                quarter_turns = int(round((frame.rotation or 0) / 90)) % 4
                if out_size is None:
                    self.source_width, self.source_height = frame.width, frame.height
                    out_size = _scaled_size(frame.width, frame.height, self.max_side_px)
                    if quarter_turns % 2:
                        self.source_width, self.source_height = self.source_height, self.source_width
                times.append(t_s)
                if self._yielded_until_s is not None and t_s <= self._yielded_until_s:
                    frames.append(None)  # yielded by a pass that failed later: sampled again, not converted again
                    continue
                rgb = frame.reformat(width=out_size[0], height=out_size[1], format="rgb24").to_ndarray()
                frames.append(np.ascontiguousarray(np.rot90(rgb, quarter_turns)) if quarter_turns else rgb)
        if frames and (chunk := self._chunk(frames, times)):
            yield chunk

    def _chunk(self, frames: list[np.ndarray | None], times: list[float]) -> FrameChunk | None:
        """The frames not yielded yet as one chunk, or None when an earlier pass yielded them all."""
        kept = [i for i, frame in enumerate(frames) if frame is not None]
        if not kept:
            return None
        self.frame_count += len(kept)
        self._yielded_until_s = times[kept[-1]]
        return FrameChunk(np.stack([frames[i] for i in kept]), np.asarray([times[i] for i in kept], np.float64))


def media_info(audio: DecodedAudio, video: VideoFrames) -> MediaInfo:
    """The checks decode_media makes once both streamed passes are done: decodable tracks, complete file, limit."""
    if audio.has_video and not video.frame_count:
        raise InvalidMedia("The uploaded video track has no decodable frames.")
    if audio.has_audio and not audio.audio.size and not audio.has_video:
        raise InvalidMedia("The uploaded audio track has no decodable samples.")
    decoded_s = max(
        audio.audio.size / SAMPLE_RATE,
        (video.last_frame_s + 1.0 / (video.source_fps or video.frame_rate_hz))
        if video.last_frame_s is not None
        else 0.0,
    )
    stated_s = audio.container_duration_s
    if stated_s is not None and decoded_s < 0.9 * stated_s - 0.5:
        raise InvalidMedia(f"The uploaded {audio.container} file is incomplete: it ends before its stated duration.")
    duration_s = max(decoded_s, stated_s or 0.0)
    if duration_s > video.max_duration_s:
        raise MediaLimitExceeded(f"The video is longer than the limit of {video.max_duration_s:g} seconds.")
    return MediaInfo(
        float(duration_s),
        audio.has_audio,
        audio.has_video,
        audio.container,
        int(video.source_width),
        int(video.source_height),
        video.source_fps,
        video.frame_count,
    )
