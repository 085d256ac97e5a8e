"""Shared fixtures: real talking-head videos with ground truth, built once and cached in tests/.fixtures/."""

import pytest

from testkit.videos import CONTAINERS, FIXTURE_DIR, VideoFixture, fixture_set


@pytest.fixture(scope="session")
def talking_head_videos() -> dict[str, VideoFixture]:
    """All fixture videos by name: script_<container> for each container, beckett_mp4, no_face_mp4,
    no_audio_mp4, face_out_mp4."""
    return fixture_set(FIXTURE_DIR)


@pytest.fixture(scope="session")
def talking_head(talking_head_videos) -> VideoFixture:
    """The espeak-ng script (28 words, one 2.5 s pause) over the portrait, mp4."""
    return talking_head_videos["script_mp4"]


@pytest.fixture(scope="session", params=CONTAINERS)
def talking_head_container(request, talking_head_videos) -> VideoFixture:
    """The script video once per container (mp4, mov, mkv, webm, avi)."""
    return talking_head_videos[f"script_{request.param}"]


@pytest.fixture(scope="session")
def talking_head_beckett(talking_head_videos) -> VideoFixture:
    return talking_head_videos["beckett_mp4"]


@pytest.fixture(scope="session")
def talking_head_no_face(talking_head_videos) -> VideoFixture:
    return talking_head_videos["no_face_mp4"]


@pytest.fixture(scope="session")
def talking_head_no_audio(talking_head_videos) -> VideoFixture:
    return talking_head_videos["no_audio_mp4"]


@pytest.fixture(scope="session")
def talking_head_face_out(talking_head_videos) -> VideoFixture:
    """Face in frame 0-4 s and 7-11 s only."""
    return talking_head_videos["face_out_mp4"]


@pytest.fixture(scope="session")
def real_recordings() -> dict:
    """Real speech over real faces (benchmarks/real_set.py): the cases that broke the first version."""
    from benchmarks.real_set import real_set

    names = {
        "monologue_webm",
        "falsetto_avi",
        "mfa_uhuh_webm",
        "face_then_cut_mkv",
        "single_face_near_silent_avi",
        "muted_microphone_mp4",
        "no_audio_track_mov",
    }
    return {clip.name: clip for clip in real_set(FIXTURE_DIR, names)}
