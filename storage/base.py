"""What a video store promises: keep an upload, hand out a URL that stops working after a TTL, then delete it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

# Containers the ingress accepts, by sniffed type; browsers play mp4/webm, the rest are offered for download.
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}


@dataclass(frozen=True)
class StoredVideo:
    object_id: str
    url: str  # absolute for S3; for the local store, absolute when a base URL is known, else a path
    expires_at: datetime


class VideoStore(Protocol):
    ttl_s: int

    def put(self, source: BinaryIO, extension: str, base_url: str, ttl_s: int | None = None) -> StoredVideo:
        """Copy `source` (read from its current position) and return a URL valid for `ttl_s` seconds (default: the
        store's own); the video is deleted after that."""

    def open(self, object_id: str) -> BinaryIO:
        """A stored video for reading (a job's upload); FileNotFoundError once it is gone. Close it after use."""

    def delete(self, object_id: str) -> None:
        """Deletes a stored video before its expiry (a finished job's upload); nothing if it is gone."""

    def purge_expired(self) -> int:
        """Delete every stored video whose URL has expired; returns how many were deleted."""

    def free_bytes(self) -> int | None:
        """Free space where the videos are written, or None where the store cannot tell (S3)."""
