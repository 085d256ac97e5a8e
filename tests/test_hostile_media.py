"""Every file of the hostile corpus is refused by decode_media with a safe, specific error (no Ray here)."""

from __future__ import annotations

import io
import tempfile

import pytest

from softskills.models.errors import InvalidMedia, MediaLimitExceeded, UnsupportedMediaType
from softskills.models.media.decode import decode_media
from testkit.hostile_media import HUGE_SIDE_PX, build_corpus

CORPUS = build_corpus()


@pytest.mark.parametrize("hostile", CORPUS, ids=[h.name for h in CORPUS])
def test_hostile_file_is_refused_with_the_right_error(hostile):
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as upload:  # what the ingress hands over
        upload.write(hostile.data)
        upload.seek(0)
        with pytest.raises(InvalidMedia) as err:
            decode_media(upload)
    expected = UnsupportedMediaType if hostile.status == 415 else InvalidMedia
    assert isinstance(err.value, expected), (hostile.why, err.value)
    if hostile.status == 422:
        assert not isinstance(err.value, UnsupportedMediaType), (hostile.why, err.value)
    message = str(err.value)
    assert message.endswith(".") and "/" not in message and hostile.name not in message, message


def test_limits_name_the_limit():
    by_name = {h.name: h for h in CORPUS}
    with pytest.raises(MediaLimitExceeded, match=f"{HUGE_SIDE_PX}x{HUGE_SIDE_PX} .* limit of 16777216 pixels"):
        decode_media(io.BytesIO(by_name["enormous.avi"].data))
    # The pixel limit holds for every size the stream changes to, not only for its first frame.
    with pytest.raises(MediaLimitExceeded, match="4200x4200 is over the limit of 16777216 pixels"):
        decode_media(io.BytesIO(by_name["resolution_change.avi"].data))
    for name in ("one_hour.mkv", "one_hour_sparse.mp4"):
        with pytest.raises(MediaLimitExceeded, match="longer than the limit of 1800 seconds"):
            decode_media(io.BytesIO(by_name[name].data))
    with pytest.raises(MediaLimitExceeded, match="longer than the limit of 60 seconds"):
        decode_media(io.BytesIO(by_name["one_hour.mkv"].data), max_duration_s=60)


def test_playlists_never_reach_the_files_they_name():
    """An HLS or concat playlist is refused by its bytes, before FFmpeg could open anything it names."""
    for name in ("playlist.mp4", "concat.mkv"):
        data = next(h.data for h in CORPUS if h.name == name)
        with pytest.raises(UnsupportedMediaType):
            decode_media(io.BytesIO(data))
