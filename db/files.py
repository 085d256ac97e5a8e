"""The data directory: where an embedded deployment keeps its state (the SQLite database, the pepper, the video
signing key, local videos, the embedded job queue, `make serve`'s key), created private."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DATA_DIR_ENV = "SOFTSKILLS_DATA_DIR"
DEFAULT_DATA_DIR = "var"


def data_dir() -> Path:
    """``SOFTSKILLS_DATA_DIR``, else ``./var``."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def create_private_dir(path: Path) -> Path:
    """mkdir -p whose last directory, when this call creates it, is 0700: the data dir holds the key store, the
    pepper, signing keys and uploaded videos. An existing directory keeps the mode its owner gave it."""
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process created it first
            pass
    return path


def create_secret_file_once(path: Path) -> bool:
    """Write a random secret to `path` (0600) unless it exists; True if this call created it.

    The file is written under a temporary name and linked into place: link() fails if the name exists, so
    concurrent first starts (several replicas) all end up reading one secret.
    """
    if path.exists():
        return False
    create_private_dir(path.parent)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as temp_file:
            temp_file.write(secrets.token_urlsafe(48) + "\n")
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.link(temp_path, path)
        return True
    except FileExistsError:
        return False
    finally:
        temp_path.unlink(missing_ok=True)
