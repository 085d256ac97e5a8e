"""Peppered HMAC-SHA256 of key secrets.

The pepper lives outside the database, so a leaked database (or backup) alone cannot be used to
test guesses. Key secrets carry ~178 random bits, so a single fast HMAC is enough; a slow password
hash would only add latency to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from softskills.db.files import create_secret_file_once

logger = logging.getLogger(__name__)

PEPPER_ENV = "SOFTSKILLS_KEY_PEPPER"
PEPPER_FILE_ENV = "SOFTSKILLS_KEY_PEPPER_FILE"
PEPPER_VERSION_ENV = "SOFTSKILLS_KEY_PEPPER_VERSION"
LOCAL_PEPPER_FILE_NAME = "key_pepper"
MIN_PEPPER_BYTES = 32
PEPPER_CREATED_ADVICE = (
    "Generated a local API key pepper in %s. Back it up, but never in the same place as the key database or its "
    "backups: a database together with its pepper lets anyone test key guesses offline. Set %s or %s for shared "
    "or production deployments."
)


class PepperError(RuntimeError):
    """The pepper is missing or unusable; the service must not start without one."""


@dataclass(frozen=True)
class Pepper:
    secret: bytes = field(repr=False)
    version: int = 1

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_PEPPER_BYTES:
            raise PepperError(f"The API key pepper must be at least {MIN_PEPPER_BYTES} bytes long.")
        if self.version < 1:
            raise PepperError("The API key pepper version must be a positive integer.")


def load_pepper(local_dir: Path | None) -> Pepper:
    """Read the pepper from ``SOFTSKILLS_KEY_PEPPER`` or ``SOFTSKILLS_KEY_PEPPER_FILE``.

    Without either, and only when ``local_dir`` is given (an embedded single-machine store), use
    ``<local_dir>/key_pepper``, generating it once. Shared stores pass None: replicas that each
    generated their own pepper could not verify each other's keys.
    """
    from_env = os.environ.get(PEPPER_ENV)
    pepper_file = os.environ.get(PEPPER_FILE_ENV)
    if from_env and pepper_file:
        raise PepperError(f"Set only one of {PEPPER_ENV} and {PEPPER_FILE_ENV}.")
    version = _pepper_version()
    if from_env:
        return Pepper(from_env.encode("utf-8"), version)
    if pepper_file:
        return Pepper(_read_pepper_file(Path(pepper_file)), version)
    if local_dir is None:
        raise PepperError(
            f"Set {PEPPER_ENV} or {PEPPER_FILE_ENV}: a shared key database needs one pepper shared by every replica."
        )
    return Pepper(_local_pepper(Path(local_dir) / LOCAL_PEPPER_FILE_NAME), version)


def _pepper_version() -> int:
    raw = os.environ.get(PEPPER_VERSION_ENV, "1")
    try:
        return int(raw)
    except ValueError:
        raise PepperError(f"{PEPPER_VERSION_ENV} must be an integer.") from None


def _read_pepper_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except OSError as error:
        raise PepperError(f"Cannot read the API key pepper file {path}: {error.strerror}.") from None


def _local_pepper(path: Path) -> bytes:
    """Create the pepper file once, or read the one another process created first."""
    if create_secret_file_once(path):
        logger.warning(PEPPER_CREATED_ADVICE, path, PEPPER_ENV, PEPPER_FILE_ENV)
    return _read_pepper_file(path)


def secret_digest(pepper: Pepper, secret: str) -> bytes:
    """HMAC-SHA256 of a key secret: the only thing about a key that is stored."""
    return hmac.new(pepper.secret, secret.encode("ascii"), hashlib.sha256).digest()


def secret_matches(pepper: Pepper, secret: str, stored_digest: bytes) -> bool:
    """Constant-time check, so response timing does not reveal how much of a guess was right."""
    return hmac.compare_digest(secret_digest(pepper, secret), stored_digest)
