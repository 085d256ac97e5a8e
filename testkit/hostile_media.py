"""A corpus of broken and hostile uploads, generated at test time (nothing big is committed).

Each entry is bytes that a user could send as `video`, with the status the service must answer. Every entry must
be refused by the bytes alone or by a cheap probe: none may take the decoder long, use much memory, or reach
outside the uploaded file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ASSETS = Path(__file__).parent / "assets"
HUGE_SIDE_PX = 16000  # FFmpeg itself refuses frames over ~268 Mpx; this one it would try to allocate


@dataclass(frozen=True)
class HostileFile:
    name: str  # the file name it is uploaded under (deliberately misleading)
    data: bytes
    status: int  # 415: not one of our containers; 422: our container, but broken or over a limit
    why: str


def _encode(
    fmt: str,
    codec: str,
    *,
    width: int,
    height: int,
    fps: int,
    n_frames: int,
    pix_fmt: str = "yuv420p",
    pts_step: int = 1,
) -> bytes:
    """A small video of noise frames, in memory."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(1)
    with av.open(buffer, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), format="rgb24")
            frame.pts = i * pts_step
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buffer.getvalue()


def _enormous_mjpeg_avi() -> bytes:
    """A 16x16 Motion-JPEG AVI whose every JPEG header (and the AVI header) claims 20000x20000 pixels."""
    data = bytearray(_encode("avi", "mjpeg", width=16, height=16, fps=5, n_frames=5, pix_fmt="yuvj420p"))
    side = HUGE_SIDE_PX.to_bytes(2, "big")
    i = data.find(b"\xff\xc0")
    while i >= 0:  # SOF0: marker, length (2), precision (1), height (2), width (2)
        data[i + 5 : i + 7], data[i + 7 : i + 9] = side, side
        i = data.find(b"\xff\xc0", i + 2)
    for tag in (b"avih", b"strf"):  # avih: width/height at +32/+36; strf (BITMAPINFOHEADER): at +12/+16
        j = data.find(tag)
        offsets = (40, 44) if tag == b"avih" else (12, 16)
        for off in offsets:
            data[j + off : j + off + 4] = HUGE_SIDE_PX.to_bytes(4, "little")
    return bytes(data)


def _resolution_change_mjpeg_avi() -> bytes:
    """A Motion-JPEG AVI that starts at 16x16 (as its header says) and switches to 4200x4200 frames: over the
    pixel limit only after the first frame."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=5)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, 5)
        for i, side in enumerate((16, 16, 16, 4200, 4200)):
            ok, jpeg = cv2.imencode(".jpg", np.full((side, side, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])
            packet = av.Packet(jpeg.tobytes())
            packet.stream, packet.pts, packet.dts = stream, i, i
            out.mux(packet)
    return buffer.getvalue()


def _subtitles_only_mkv() -> bytes:
    """A Matroska file whose only track is subtitles: nothing to analyse."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as out:
        stream = out.add_stream("ass")
        stream.codec_context.subtitle_header = b"[Script Info]\n"
        for i in range(3):
            packet = av.Packet(b"Dialogue: hello")
            packet.stream, packet.pts, packet.dts = stream, i * 1000, i * 1000
            out.mux(packet)
    return buffer.getvalue()


def _png_frame() -> bytes:
    return (ASSETS / "portrait_astronaut.png").read_bytes()


def build_corpus() -> list[HostileFile]:
    """Every hostile upload, built in about two seconds."""
    rng = np.random.default_rng(0)
    mp4 = _encode("mp4", "libx264", width=64, height=64, fps=10, n_frames=20)
    webm = _encode("webm", "libvpx-vp9", width=64, height=64, fps=10, n_frames=20)
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    concat = b"ffconcat version 1.0\nfile '/etc/passwd'\nfile 'http://169.254.169.254/latest/meta-data'\n"
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    ebml_mkv = b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska\x42\x87\x81\x04\x42\x85\x81\x02"
    return [
        HostileFile("empty.mp4", b"", 422, "zero bytes"),
        HostileFile("random.mp4", rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes(), 415, "random bytes"),
        HostileFile(
            "random_after_ftyp.mp4",
            ftyp + rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes(),
            422,
            "an mp4 signature followed by random bytes",
        ),
        HostileFile("truncated.mp4", mp4[: len(mp4) // 2], 422, "an mp4 cut in half"),
        HostileFile("header_only.mp4", mp4[:40], 422, "only the first 40 bytes of an mp4"),
        HostileFile("truncated.webm", webm[: len(webm) // 3], 422, "a webm cut at a third"),
        HostileFile("photo.mp4", _png_frame(), 415, "a PNG image renamed .mp4"),
        HostileFile("clip.mp4", b"GIF89a" + bytes(200), 415, "a GIF renamed .mp4"),
        HostileFile("sound.avi", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64), 415, "a WAV renamed .avi"),
        HostileFile("playlist.mp4", playlist, 415, "an HLS playlist pointing at file:///etc/passwd"),
        HostileFile("concat.mkv", concat, 415, "an FFmpeg concat script naming local files and a URL"),
        HostileFile("playlist_in_ftyp.mp4", ftyp + playlist, 422, "an HLS playlist behind an mp4 signature"),
        HostileFile("playlist_in_ebml.mkv", ebml_mkv + playlist, 422, "an HLS playlist behind a Matroska header"),
        HostileFile(
            "resolution_change.avi",
            _resolution_change_mjpeg_avi(),
            422,
            "Motion-JPEG that grows from 16x16 to 4200x4200 frames after the first",
        ),
        HostileFile(
            "enormous.avi", _enormous_mjpeg_avi(), 422, f"Motion-JPEG declaring {HUGE_SIDE_PX}x{HUGE_SIDE_PX} frames"
        ),
        HostileFile(
            "one_hour.mkv",
            _encode("matroska", "libx264", width=16, height=16, fps=1, n_frames=3600),
            422,
            "a 16x16 video one hour long at 1 frame per second",
        ),
        HostileFile(
            "one_hour_sparse.mp4",
            _encode("mp4", "libx264", width=16, height=16, fps=1, n_frames=3, pts_step=1800),
            422,
            "three 16x16 frames spread over an hour",
        ),
        HostileFile("subtitles_only.mkv", _subtitles_only_mkv(), 422, "a Matroska file with only a subtitle track"),
    ]
