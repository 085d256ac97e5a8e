"""The streamed decode (audio pass, then frame chunks) gives exactly what decode_media gives in one pass."""

import numpy as np
import pytest

from softskills.models.errors import InvalidMedia
from softskills.models.media.decode import VideoFrames, decode_audio, decode_media, media_info


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
        whole.duration_s, whole.container, whole.source_width, whole.source_height, len(whole.frames))


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
