import os
import shutil

import numpy as np
import pytest

from softskills.models.errors import InvalidMedia, MediaLimitExceeded, UnsupportedMediaType
from softskills.models.media.decode import decode_media, sniff_container
from testkit.videos import SCRIPT_PAUSES_MS, SCRIPT_SENTENCES, SCRIPT_WPM, make_audio_only_file, synthesize_script

WRONG_EXTENSION = {"mp4": ".avi", "mov": ".webm", "mkv": ".mp4", "webm": ".mov", "avi": ".mkv"}


def _envelope(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // 160
    return np.sqrt(np.mean(audio[: n * 160].reshape(n, 160) ** 2, axis=1))


def test_each_container_decodes_and_is_judged_by_its_bytes(talking_head_container, tmp_path):
    fx = talking_head_container
    renamed = tmp_path / ("upload" + WRONG_EXTENSION[fx.container])
    shutil.copy(fx.path, renamed)

    media = decode_media(str(renamed))

    assert media.container == fx.container
    assert media.has_audio and media.has_video
    assert media.sample_rate == 16000
    assert media.audio.dtype == np.float32 and media.audio.ndim == 1
    assert abs(len(media.audio) / 16000 - fx.duration_s) < 0.1
    assert abs(media.duration_s - fx.duration_s) < 0.1
    assert float(np.abs(media.audio).max()) <= 1.0
    assert media.frames.dtype == np.uint8 and media.frames.shape[-1] == 3
    assert abs(len(media.frames) - fx.duration_s * 8) <= 2
    assert max(media.frames.shape[1:3]) <= 640
    assert media.frames.shape[1:3] == (360, 640)  # 960x540 source, aspect kept
    assert len(media.frame_times_s) == len(media.frames)
    assert np.all(np.diff(media.frame_times_s) > 0)
    assert media.frame_times_s[0] < 0.05
    assert (media.source_width, media.source_height) == (fx.width, fx.height)
    assert media.source_fps == pytest.approx(fx.fps)
    assert not np.array_equal(media.frames[0], media.frames[len(media.frames) // 2])  # head sway


@pytest.mark.parametrize("name", ["script_mp4", "script_webm"])
def test_audio_lines_up_with_the_source(talking_head_videos, name):
    truth = synthesize_script(SCRIPT_SENTENCES, pauses_ms=SCRIPT_PAUSES_MS, wpm=SCRIPT_WPM).audio
    media = decode_media(talking_head_videos[name].path)
    a, b = _envelope(truth), _envelope(media.audio)
    n = min(len(a), len(b)) - 40
    lags = range(-20, 21)  # +-200 ms in 10 ms steps
    scores = [np.dot(a[20 : 20 + n - 20], b[20 + lag : 20 + lag + n - 20]) for lag in lags]
    assert abs(lags[int(np.argmax(scores))]) <= 2  # within 20 ms


def test_no_audio_track_gives_empty_audio_and_frames(talking_head_no_audio):
    media = decode_media(talking_head_no_audio.path)
    assert media.has_audio is False and media.audio.shape == (0,) and media.audio.dtype == np.float32
    assert media.has_video and len(media.frames) >= talking_head_no_audio.duration_s * 8 - 2
    assert abs(media.duration_s - talking_head_no_audio.duration_s) < 0.1


def test_audio_only_file_gives_no_frames(tmp_path):
    path = tmp_path / "voice.m4a"
    make_audio_only_file(path, 0.3 * np.sin(2 * np.pi * 220 * np.arange(32000) / 16000))
    media = decode_media(str(path))
    assert media.has_video is False and media.frames.shape == (0, 0, 0, 3) and media.frame_times_s.shape == (0,)
    assert media.has_audio and abs(len(media.audio) / 16000 - 2.0) < 0.1
    assert media.container == "mp4" and media.source_fps is None


def test_sampling_rate_and_size_are_parameters(talking_head):
    media = decode_media(talking_head.path, frame_rate_hz=2.0, max_side_px=320)
    assert abs(len(media.frames) - talking_head.duration_s * 2) <= 1
    assert media.frames.shape[1:3] == (180, 320)
    assert np.all(np.diff(media.frame_times_s) >= 0.5 - 0.04 - 1e-9)


def _bad_files(tmp_path, mp4_path):
    data = open(mp4_path, "rb").read()
    files = {
        "zero_bytes.mp4": b"",
        "random.mp4": np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
        "truncated.mp4": data[: len(data) // 2],
        "playlist.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        "header_only.mp4": data[:32],
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    shutil.copy(
        os.path.join(os.path.dirname(__file__), "..", "testkit", "assets", "portrait_astronaut.png"),
        tmp_path / "photo.mp4",
    )
    return sorted(files) + ["photo.mp4"]


def test_bad_uploads_raise_invalid_media_with_a_safe_message(talking_head, tmp_path):
    for name in _bad_files(tmp_path, talking_head.path):
        with pytest.raises(InvalidMedia) as err:
            decode_media(str(tmp_path / name))
        message = str(err.value)
        assert message and str(tmp_path) not in message and name not in message, (name, message)


@pytest.mark.parametrize("name", ["random.mp4", "playlist.m3u8", "photo.mp4"])
def test_foreign_bytes_are_unsupported_media_type(talking_head, tmp_path, name):
    _bad_files(tmp_path, talking_head.path)
    with pytest.raises(UnsupportedMediaType, match="mp4, mov, webm, mkv or avi"):
        decode_media(str(tmp_path / name))


def test_sniffing_reads_brands_and_doctypes(tmp_path):
    cases = {
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ": "mov",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2": "mp4",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04": "webm",
        b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska\x42\x87\x81\x04": "mkv",
        b"RIFF\x00\x10\x00\x00AVI LIST": "avi",
    }
    for head, expected in cases.items():
        path = tmp_path / "x.bin"
        path.write_bytes(head + b"\x00" * 64)
        assert sniff_container(str(path)) == expected
    (tmp_path / "x.wav").write_bytes(b"RIFF\x00\x10\x00\x00WAVEfmt " + b"\x00" * 64)
    with pytest.raises(UnsupportedMediaType):
        sniff_container(str(tmp_path / "x.wav"))


def test_limits(talking_head):
    with pytest.raises(MediaLimitExceeded, match="5 seconds"):
        decode_media(talking_head.path, max_duration_s=5)
    with pytest.raises(MediaLimitExceeded, match="960x540"):
        decode_media(talking_head.path, max_pixels=640 * 480)
    with pytest.raises(MediaLimitExceeded, match="Decoding took longer"):
        decode_media(talking_head.path, max_decode_s=0)


def test_spooled_upload_decodes_like_the_file(talking_head_container):
    """The ingress hands over the multipart parser's spooled file, in memory when small; it must decode the same."""
    import tempfile

    from_path = decode_media(talking_head_container.path)
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spooled:
        with open(talking_head_container.path, "rb") as f:
            spooled.write(f.read())
        spooled.seek(0)
        from_upload = decode_media(spooled)
    assert from_upload.container == from_path.container
    assert from_upload.frames.shape == from_path.frames.shape
    assert np.array_equal(from_upload.audio, from_path.audio)
