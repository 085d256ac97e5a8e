"""The embedded store: files on local disk, served by the ingress at `/media/<name>?signature=...`.

The name carries the expiry (`<expires_unix>-<uuid>.<ext>`) and the signature is HMAC-SHA256 of the name, so a
URL cannot be extended or pointed at another file without the key. Expired files are deleted by `purge_expired`
(run periodically by storage/janitor.py's `Janitor`) and on the first request after expiry. All ingress replicas must
share the directory and the signing key; on a cluster without a shared volume, use the S3 backend.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from softskills.db.files import create_private_dir, create_secret_file_once
from softskills.storage.base import CONTENT_TYPES, StoredVideo

logger = logging.getLogger(__name__)

SIGNING_KEY_ENV = "SOFTSKILLS_STORAGE_KEY"
SIGNING_KEY_FILE_NAME = "storage_key"
MIN_SIGNING_KEY_BYTES = 32
MEDIA_PATH = "/media"
# ASCII only: `\d` would otherwise take any Unicode digit, and such a name then fails as it is signed.
_NAME = re.compile(r"(\d{1,12})-([0-9a-f]{32})\.(" + "|".join(CONTENT_TYPES) + r")", re.ASCII)


class MediaForbidden(Exception):
    """The URL is tampered with, malformed or expired: answer 403 whatever the cause."""


class LocalVideoStore:
    def __init__(self, root: Path, signing_key: bytes, ttl_s: int, *, clock: Callable[[], float] = time.time) -> None:
        if len(signing_key) < MIN_SIGNING_KEY_BYTES:
            raise ValueError(f"the storage signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes")
        self.root = create_private_dir(Path(root))
        self.ttl_s = ttl_s
        self._key = signing_key
        self._clock = clock

    def put(self, source: BinaryIO, extension: str, base_url: str, ttl_s: int | None = None) -> StoredVideo:
        if extension not in CONTENT_TYPES:
            raise ValueError(f"unsupported extension {extension!r}")
        expires_unix = int(self._clock()) + (ttl_s or self.ttl_s)
        name = f"{expires_unix}-{uuid.uuid4().hex}.{extension}"
        partial = self.root / f".{name}.partial"
        with open(partial, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        partial.rename(self.root / name)  # readers never see half a file
        return StoredVideo(
            name,
            f"{base_url.rstrip('/')}{MEDIA_PATH}/{name}?signature={self.sign(name)}",
            datetime.fromtimestamp(expires_unix, timezone.utc),
        )

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

    def open(self, object_id: str) -> BinaryIO:
        return open(self._path(object_id), "rb")

    def delete(self, object_id: str) -> None:
        self._path(object_id).unlink(missing_ok=True)

    def _path(self, object_id: str) -> Path:
        if _NAME.fullmatch(object_id) is None:  # ids come from put(); anything else is not ours
            raise FileNotFoundError(object_id)
        return self.root / object_id

    def sign(self, name: str) -> str:
        digest = hmac.new(self._key, name.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def open_signed(self, name: str, signature: str) -> tuple[Path, str]:
        """The file and its content type for a valid, unexpired URL; MediaForbidden otherwise."""
        match = _NAME.fullmatch(name)
        if match is None or not signature.isascii() or not hmac.compare_digest(self.sign(name), signature):
            raise MediaForbidden()
        path = self.root / name
        if int(match.group(1)) <= self._clock():
            path.unlink(missing_ok=True)
            raise MediaForbidden()
        if not path.is_file():
            raise FileNotFoundError(name)
        return path, CONTENT_TYPES[match.group(3)]

    def purge_expired(self) -> int:
        now = self._clock()
        deleted = 0
        for path in self.root.iterdir():
            match = _NAME.fullmatch(path.name)
            stale_partial = path.name.endswith(".partial") and path.stat().st_mtime < now - self.ttl_s
            if (match is not None and int(match.group(1)) <= now) or stale_partial:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted


def load_signing_key(data_dir: Path) -> bytes:
    """`SOFTSKILLS_STORAGE_KEY`, else `<data_dir>/storage_key`, generated once (0600) on first use."""
    from_env = os.environ.get(SIGNING_KEY_ENV)
    if from_env:
        return from_env.encode("utf-8")
    path = Path(data_dir) / SIGNING_KEY_FILE_NAME
    create_secret_file_once(path)
    return path.read_bytes().strip()
