"""Builds the configured video store (`ingress.storage` in the serve config)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from storage.base import VideoStore


def build_video_store(backend: str, *, url_ttl_s: int, data_dir: Path, local_dir: str | None = None,
                      s3_bucket: str | None = None, s3_prefix: str = "videos/", s3_endpoint_url: str | None = None,
                      s3_region: str | None = None) -> VideoStore | None:
    """None when storage is switched off (`backend: off`): full-analysis then answers `videoUrl: null`."""
    if backend == "off":
        return None
    if backend == "local":
        from storage.local import LocalVideoStore, load_signing_key

        root = Path(local_dir) if local_dir else Path(data_dir) / "videos"
        return LocalVideoStore(root, load_signing_key(data_dir), url_ttl_s)
    if backend == "s3":
        if not s3_bucket:
            raise ValueError("storage backend s3 needs s3_bucket")
        from storage.s3 import S3VideoStore

        return S3VideoStore(s3_bucket, url_ttl_s, prefix=s3_prefix, endpoint_url=s3_endpoint_url, region=s3_region)
    raise ValueError(f"unknown storage backend {backend!r}")


class VideoStorage:
    """What the ingress holds: the configured store, its purge thread, and the URL base rule."""

    def __init__(self, store: VideoStore, public_base_url: str | None, purge_interval_s: float) -> None:
        from storage.local import Janitor

        self.store = store
        self._public_base_url = public_base_url
        self._janitor = Janitor(store, purge_interval_s).start()

    @property
    def media_origins(self) -> tuple[str, ...]:
        """Where browsers fetch stored videos from, beyond the ingress itself (for the dashboard's CSP)."""
        from storage.s3 import S3VideoStore

        if not isinstance(self.store, S3VideoStore):
            return (self._public_base_url,) if self._public_base_url else ()
        endpoint = self.store.endpoint_url
        return (endpoint,) if endpoint else ("https://*.amazonaws.com",)

    def save(self, upload: BinaryIO, request_base_url: str) -> str:
        """Copies the upload (a file the ingress has already validated as a video) and returns its videoUrl."""
        from models.media.decode import sniff_container

        upload.seek(0)  # decoding has read it to the end
        extension = sniff_container(upload)
        return self.store.put(upload, extension, self._public_base_url or request_base_url).url


def start_video_store(options) -> VideoStorage | None:
    """From `ingress.storage` (deployments.config.StorageOptions); None when storage is off."""
    from auth.store import data_dir

    store = build_video_store(options.backend, url_ttl_s=options.url_ttl_s, data_dir=data_dir(),
                              local_dir=options.local_dir, s3_bucket=options.s3_bucket, s3_prefix=options.s3_prefix,
                              s3_endpoint_url=options.s3_endpoint_url, s3_region=options.s3_region)
    if store is None:
        return None
    from storage.local import LocalVideoStore
    from storage.routes import serve_local_store

    serve_local_store(store if isinstance(store, LocalVideoStore) else None)
    return VideoStorage(store, options.public_base_url, options.purge_interval_s)
