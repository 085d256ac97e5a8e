"""Builds the configured video store (`storage` in the serve config) and keeps uploads in it under quotas."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from softskills.config.options import StorageOptions
from softskills.models.i18n.text import Text, say
from softskills.storage.base import VideoStore
from softskills.storage.local import LocalVideoStore
from softskills.storage.quota import StorageRefused, VideoLedger, VideoQuota

logger = logging.getLogger(__name__)

STORAGE_OFF_REASON = say("Video storage is off on this server.")
STORAGE_FAILED_REASON = say("Not stored: the video store failed; the server log has the error.")


def build_video_store(
    backend: str,
    *,
    url_ttl_s: int,
    data_dir: Path,
    local_dir: str | None = None,
    s3_bucket: str | None = None,
    s3_prefix: str = "videos/",
    s3_endpoint_url: str | None = None,
    s3_region: str | None = None,
) -> VideoStore | None:
    """None when storage is switched off (`backend: off`): full-analysis then answers `videoUrl: null`."""
    if backend == "off":
        return None
    if backend == "local":
        from softskills.storage.local import load_signing_key

        root = Path(local_dir) if local_dir else Path(data_dir) / "videos"
        return LocalVideoStore(root, load_signing_key(data_dir), url_ttl_s)
    if backend == "s3":
        if not s3_bucket:
            raise ValueError("storage backend s3 needs s3_bucket")
        from softskills.storage.s3 import S3VideoStore

        return S3VideoStore(s3_bucket, url_ttl_s, prefix=s3_prefix, endpoint_url=s3_endpoint_url, region=s3_region)
    raise ValueError(f"unknown storage backend {backend!r}")


@dataclass(frozen=True)
class SavedVideo:
    """The response's `videoUrl`, or null and `videoUrlReason` saying why."""

    url: str | None
    reason: Text | None = None


@dataclass(frozen=True)
class KeptUpload:
    """A job's upload in the video store: its object and its quota ledger row."""

    object_id: str
    reservation: int
    size_bytes: int


class VideoStorage:
    """What the ingress holds: the configured store, its quotas, its purge thread, and the URL base rule."""

    def __init__(
        self, store: VideoStore, ledger: VideoLedger, public_base_url: str | None, purge_interval_s: float
    ) -> None:
        from softskills.storage.janitor import Janitor

        self.store, self.ledger = store, ledger
        self._public_base_url = public_base_url
        self._janitor = Janitor(self.purge_expired, purge_interval_s, "expired videos").start()

    @property
    def local_store(self) -> LocalVideoStore | None:
        """The local store, whose signed URLs the ingress serves itself (/media); None for S3."""
        return self.store if isinstance(self.store, LocalVideoStore) else None

    @property
    def media_origins(self) -> tuple[str, ...]:
        """Where browsers fetch stored videos from, beyond the ingress itself (for the dashboard's CSP)."""
        from softskills.storage.s3 import S3VideoStore

        if not isinstance(self.store, S3VideoStore):
            return (self._public_base_url,) if self._public_base_url else ()
        endpoint = self.store.endpoint_url
        return (endpoint,) if endpoint else ("https://*.amazonaws.com",)

    def save(self, upload: BinaryIO, request_base_url: str, owner: str) -> SavedVideo:
        """Copies the upload (a file the ingress has already validated as a video) if it fits the owner's and the
        total quota and the free disk. Never raises: a video that is not kept costs its URL, not the analysis."""
        from softskills.models.media.decode import sniff_container

        upload.seek(0, os.SEEK_END)
        size_bytes = upload.tell()
        upload.seek(0)  # decoding has read it to the end
        try:
            extension = sniff_container(upload)
            reservation = self.ledger.reserve(owner, size_bytes, self.store.free_bytes)
        except StorageRefused as refused:
            logger.info("video not stored: %s", refused.reason)
            return SavedVideo(None, refused.reason)
        except Exception as exc:
            logger.warning("video quota check failed: %s", type(exc).__name__)
            return SavedVideo(None, STORAGE_FAILED_REASON)
        try:
            stored = self.store.put(upload, extension, self._public_base_url or request_base_url)
        except Exception as exc:
            logger.warning("video storage failed: %s", type(exc).__name__)
            self._forget(reservation)
            return SavedVideo(None, STORAGE_FAILED_REASON)
        try:
            self.ledger.confirm(reservation, stored.object_id, stored.expires_at)
        except Exception as exc:  # the row still counts the bytes until its reservation expires
            logger.warning("video quota update failed: %s", type(exc).__name__)
        return SavedVideo(stored.url)

    def keep_upload(self, upload: BinaryIO, owner: str, ttl_s: int) -> KeptUpload:
        """Keeps a job's upload (already checked to be a supported container) until its job runs, counted in the
        owner's quota like any stored video; StorageRefused saying which limit stops it."""
        from softskills.models.media.decode import sniff_container

        upload.seek(0, os.SEEK_END)
        size_bytes = upload.tell()
        upload.seek(0)
        extension = sniff_container(upload)
        reservation = self.ledger.reserve(owner, size_bytes, self.store.free_bytes)
        try:
            stored = self.store.put(upload, extension, "", ttl_s=ttl_s)
        except Exception:
            self._forget(reservation)
            raise
        self.ledger.confirm(reservation, stored.object_id, stored.expires_at)
        return KeptUpload(stored.object_id, reservation, size_bytes)

    def open_upload(self, object_id: str) -> BinaryIO:
        return self.store.open(object_id)

    def discard_upload(self, object_id: str, reservation: int | None) -> None:
        """Deletes a job's upload and frees its quota (the purge would, at its expiry)."""
        self.store.delete(object_id)
        if reservation is not None:
            self._forget(reservation)

    def _forget(self, reservation: int) -> None:
        try:
            self.ledger.release(reservation)
        except Exception as exc:  # the row expires with the URL it would have had
            logger.warning("video quota release failed: %s", type(exc).__name__)

    def purge_expired(self) -> int:
        """Deletes expired videos, then their quota rows: a row never goes before its file."""
        now = self.ledger.now()
        deleted = self.store.purge_expired()
        self.ledger.forget_expired(now)
        return deleted


def start_video_store(options: StorageOptions, data_dir: Path, database_url: str) -> VideoStorage | None:
    """The configured store (`storage` in the serve config) with its quotas and its purge; None when storage is
    off. Its quota ledger is in the key store's database at `database_url`; local files live under `data_dir`."""
    store = build_video_store(
        options.backend,
        url_ttl_s=options.url_ttl_s,
        data_dir=data_dir,
        local_dir=options.local_dir,
        s3_bucket=options.s3_bucket,
        s3_prefix=options.s3_prefix,
        s3_endpoint_url=options.s3_endpoint_url,
        s3_region=options.s3_region,
    )
    if store is None:
        return None
    quota = VideoQuota(options.max_bytes_per_owner, options.max_total_bytes, options.min_free_disk_bytes)
    return VideoStorage(
        store, VideoLedger(database_url, quota, store.ttl_s), options.public_base_url, options.purge_interval_s
    )
