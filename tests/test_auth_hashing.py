import logging
import stat

import pytest

from softskills.auth.hashing import (
    MIN_PEPPER_BYTES,
    PEPPER_ENV,
    PEPPER_FILE_ENV,
    PEPPER_VERSION_ENV,
    Pepper,
    PepperError,
    load_pepper,
    secret_digest,
    secret_matches,
)

PEPPER_TEXT = "x" * MIN_PEPPER_BYTES


@pytest.fixture(autouse=True)
def _no_pepper_env(monkeypatch):
    for name in (PEPPER_ENV, PEPPER_FILE_ENV, PEPPER_VERSION_ENV):
        monkeypatch.delenv(name, raising=False)


def test_pepper_from_environment_with_version(monkeypatch):
    monkeypatch.setenv(PEPPER_ENV, PEPPER_TEXT)
    monkeypatch.setenv(PEPPER_VERSION_ENV, "3")
    assert load_pepper(None) == Pepper(PEPPER_TEXT.encode(), 3)


def test_pepper_from_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "pepper"
    secret_file.write_text(PEPPER_TEXT + "\n")
    monkeypatch.setenv(PEPPER_FILE_ENV, str(secret_file))
    assert load_pepper(None) == Pepper(PEPPER_TEXT.encode(), 1)


@pytest.mark.parametrize(
    "env",
    [
        {PEPPER_ENV: PEPPER_TEXT, PEPPER_FILE_ENV: "/etc/hostname"},
        {PEPPER_ENV: "short"},
        {PEPPER_ENV: PEPPER_TEXT, PEPPER_VERSION_ENV: "two"},
        {PEPPER_ENV: PEPPER_TEXT, PEPPER_VERSION_ENV: "0"},
        {PEPPER_FILE_ENV: "/nonexistent/pepper"},
        {},  # a shared store (local_dir=None) must not invent a pepper
    ],
)
def test_unusable_pepper_configuration_fails_fast(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(PepperError):
        load_pepper(None)


def test_pepper_repr_hides_the_secret():
    assert PEPPER_TEXT not in repr(Pepper(PEPPER_TEXT.encode()))


def test_local_pepper_is_generated_once_private_and_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="softskills.auth.hashing"):
        first = load_pepper(tmp_path / "data")
    assert "Generated a local API key pepper" in caplog.text
    assert "never in the same place as the key database or its backups" in caplog.text
    pepper_file = tmp_path / "data" / "key_pepper"
    assert stat.S_IMODE(pepper_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(pepper_file.parent.stat().st_mode) == 0o700  # created by us: private
    assert [path.name for path in pepper_file.parent.iterdir()] == ["key_pepper"]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="softskills.auth.hashing"):
        assert load_pepper(tmp_path / "data") == first
    assert caplog.text == ""


def test_digest_is_keyed_and_compared():
    pepper = Pepper(PEPPER_TEXT.encode())
    digest = secret_digest(pepper, "secret")
    assert len(digest) == 32
    assert secret_digest(Pepper(b"y" * MIN_PEPPER_BYTES), "secret") != digest
    assert secret_matches(pepper, "secret", digest)
    assert not secret_matches(pepper, "secreT", digest)
