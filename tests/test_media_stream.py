"""The streamed decode (audio pass, then frame chunks) gives exactly what decode_media gives in one pass, on the
CPU's decoder or, where it works, the GPU's."""

import logging
from pathlib import Path

import av
import numpy as np
import pytest

from softskills.models.errors import InvalidMedia
from softskills.models.media import decode
from softskills.models.media.decode import VideoFrames, choose_video_decoder, decode_audio, decode_media, media_info


def test_streamed_decode_matches_one_pass(talking_head_container):
    path = talking_head_container.path
    whole = decode_media(path)
    audio = decode_audio(path)
    video = VideoFrames(path, chunk_s=4.0)
    chunks = list(video)
    info = media_info(audio, video)

    assert np.array_equal(audio.audio, whole.audio)
    assert np.array_equal(np.concatenate([c.frames for c in chunks]), whole.frames)
    assert np.array_equal(np.concatenate([c.frame_times_s for c in chunks]), whole.frame_times_s)
    assert len(chunks) == int(np.ceil(whole.frame_times_s[-1] / 4.0))
    assert all(c.frame_times_s[0] >= 4.0 * i and c.frame_times_s[-1] < 4.0 * (i + 1) for i, c in enumerate(chunks))
    assert (info.duration_s, info.container, info.source_width, info.source_height, info.frame_count) == (
        whole.duration_s,
        whole.container,
        whole.source_width,
        whole.source_height,
        len(whole.frames),
    )


def test_audio_pass_of_a_silent_video(talking_head_no_audio):
    audio = decode_audio(talking_head_no_audio.path)
    assert not audio.has_audio and audio.has_video and audio.audio.size == 0


def test_truncated_upload_is_incomplete_after_both_passes(talking_head, tmp_path):
    data = open(talking_head.path, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidMedia):
        audio = decode_audio(str(cut))
        video = VideoFrames(str(cut))
        list(video)
        media_info(audio, video)


def test_passes_leave_the_upload_at_its_start(talking_head):
    with open(talking_head.path, "rb") as upload:
        decode_audio(upload)
        assert upload.tell() == 0
        list(VideoFrames(upload))
        assert upload.tell() == 0


# --- The GPU's video decoder (analysis.video_decoder): chosen only where it works, any failure decoded on the CPU ---

REAL_CLIP = Path(__file__).parent.parent / "benchmarks" / "real" / "faces" / "pyfeat_single_face.mp4"


@pytest.fixture
def fresh_choice():
    """choose_video_decoder decides once per process; each test decides again."""
    choose_video_decoder.cache_clear()
    yield
    choose_video_decoder.cache_clear()


class _Acceleration:
    def __init__(self, opens: bool):
        self.opens = opens

    def create(self, codec):
        if not self.opens:
            raise av.error.PermissionError(1, "Operation not permitted")
        return self


def test_auto_decodes_on_the_gpu_only_when_a_cuda_device_opens(fresh_choice, monkeypatch, caplog):
    import av.codec.hwaccel

    assert choose_video_decoder("cpu") == "cpu"
    with pytest.raises(ValueError):
        choose_video_decoder("vaapi")
    with pytest.raises(ValueError):
        VideoFrames(str(REAL_CLIP), video_decoder="gpu")
    monkeypatch.setattr(av.codec.hwaccel, "hwdevices_available", lambda: ["drm", "vaapi"])
    with caplog.at_level(logging.INFO, logger="softskills.models.media.decode"):
        assert choose_video_decoder("auto") == "cpu"
    assert "no cuda device type" in caplog.text and caplog.records[-1].levelno == logging.INFO

    monkeypatch.setattr(av.codec.hwaccel, "hwdevices_available", lambda: ["cuda", "drm"])
    monkeypatch.setattr(decode, "_cuda_acceleration", lambda: _Acceleration(opens=False))
    choose_video_decoder.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="softskills.models.media.decode"):
        assert choose_video_decoder("auto") == "cpu"
        assert choose_video_decoder("auto") == "cpu"  # decided once: one log line
        assert choose_video_decoder("cuda") == "cpu"
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.WARNING]
    assert "no CUDA device could be opened" in caplog.records[0].message

    monkeypatch.setattr(decode, "_cuda_acceleration", lambda: _Acceleration(opens=True))
    choose_video_decoder.cache_clear()
    assert choose_video_decoder("auto") == "cuda" and choose_video_decoder("cuda") == "cuda"


def _chunks(video: VideoFrames) -> list:
    return [(c.frame_times_s, c.frames) for c in video]


def _same_chunks(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(ta, tb) and np.array_equal(fa, fb) for (ta, fa), (tb, fb) in zip(a, b)
    )


def test_a_file_the_gpu_decoder_cannot_open_is_decoded_on_the_cpu(fresh_choice, monkeypatch, caplog):
    from av.codec.hwaccel import HWAccel

    on_cpu = VideoFrames(str(REAL_CLIP), chunk_s=0.5)
    expected = _chunks(on_cpu)
    monkeypatch.setattr(decode, "choose_video_decoder", lambda requested: "cuda")
    monkeypatch.setattr(decode, "_cuda_acceleration", lambda: HWAccel("cuda", device="99"))  # no such GPU anywhere
    video = VideoFrames(str(REAL_CLIP), chunk_s=0.5, video_decoder="cuda")
    with caplog.at_level(logging.WARNING, logger="softskills.models.media.decode"):
        assert _same_chunks(_chunks(video), expected)
    assert video.decoder == "cpu" and "decoding this file on the CPU" in caplog.text
    assert (video.frame_count, video.source_width, video.last_frame_s) == (
        on_cpu.frame_count,
        on_cpu.source_width,
        on_cpu.last_frame_s,
    )


def test_a_gpu_decoder_failing_mid_file_resumes_on_the_cpu_without_repeating_chunks(fresh_choice, monkeypatch):
    """The GPU pass yields the first chunks, then FFmpeg fails; the CPU pass yields exactly the rest."""
    on_cpu = VideoFrames(str(REAL_CLIP), chunk_s=0.5)
    expected = _chunks(on_cpu)
    real_open = av.open

    class FailingDemux:
        def __init__(self, container):
            self._container = container

        def __getattr__(self, name):
            return getattr(self._container, name)

        def __enter__(self):
            self._container.__enter__()
            return self

        def __exit__(self, *exc):
            return self._container.__exit__(*exc)

        def demux(self, *streams):
            for i, packet in enumerate(self._container.demux(*streams)):
                if i == 40:  # 1.3 s into the 30 fps clip: two chunks are out
                    raise av.error.InvalidDataError(-1094995529, "Invalid data found when processing input")
                yield packet

    def open_failing_on_the_gpu(*args, hwaccel=None, **kwargs):
        container = real_open(*args, **kwargs)
        return FailingDemux(container) if hwaccel is not None else container

    monkeypatch.setattr(decode, "choose_video_decoder", lambda requested: "cuda")
    monkeypatch.setattr(decode, "_cuda_acceleration", lambda: object())
    monkeypatch.setattr(av, "open", open_failing_on_the_gpu)
    video = VideoFrames(str(REAL_CLIP), chunk_s=0.5, video_decoder="cuda")
    seen = []
    for chunk in video:
        seen.append((chunk.frame_times_s, chunk.frames))
        if len(seen) == 2:
            assert video.decoder == "cuda"  # still the GPU pass
    assert _same_chunks(seen, expected) and video.decoder == "cpu"
    assert video.frame_count == on_cpu.frame_count
