from pathlib import Path

import pytest
import soundfile as sf

from softskills.models.speech.transcribe import SpeechToText
from softskills.models.speech.weights import BASE_FILES, CACHE_ENV, ModelUnavailable, model_dir

ASSETS = Path(__file__).parent.parent / "testkit" / "assets"


@pytest.fixture
def model_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    return tmp_path


def test_tiny_en_is_a_ctranslate2_dir():
    path = Path(model_dir("tiny.en"))
    assert (path / "model.bin").is_file() and (path / "config.json").is_file()


def test_base_is_assembled_once_with_the_published_files(model_cache):
    path = Path(model_dir("base"))
    assert path.parent == model_cache
    assert {p.name: p.stat().st_size for p in path.iterdir()} == {f: size for f, (size, _) in BASE_FILES.items()}
    stamp = (path / "model.bin").stat().st_mtime_ns
    assert Path(model_dir("base")) == path and (path / "model.bin").stat().st_mtime_ns == stamp  # reused
    assert [p.name for p in model_cache.iterdir()] == [path.name]  # no staging folder left behind


def test_a_half_written_base_is_assembled_again(model_cache):
    path = Path(model_dir("base"))
    with open(path / "model.bin", "r+b") as f:
        f.truncate(1000)
    assert Path(model_dir("base")) == path
    assert (path / "model.bin").stat().st_size == BASE_FILES["model.bin"][0]


def test_unknown_model_names_the_choices():
    with pytest.raises(ModelUnavailable, match="tiny.en, base"):
        model_dir("large-v3")


def test_base_transcribes_the_real_recording(model_cache):
    audio, _ = sf.read(ASSETS / "speech_beckett.wav", dtype="float32")
    words = [w.normalized for w in SpeechToText(model="base", cpu_threads=2).transcribe(audio).words]
    for expected in ("ever", "tried", "failed", "matter", "again", "better"):
        assert expected in words
