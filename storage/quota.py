"""Byte quotas of stored videos: per owner (the API key's, or the dashboard account's), in total, and the free disk.

Every stored video has a row in the key store's database (`DATABASE_URL`, else the SQLite file), written before the
copy starts. The check and the row are one transaction under a lock every ingress replica takes
(`db.locks.hold_lock`), so two parallel uploads cannot both pass when only one fits: the second one's sums
include the first one's row. Rows go when their video's URL expires (`forget_expired`, run by the purge).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Integer, String, case, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from softskills.db.base import MAX_OWNER_CHARS, Base, UTCDateTime
from softskills.db.engine import connect
from softskills.db.locks import hold_lock
from softskills.models.i18n.text import Text, say

_QUOTA_LOCK = "video-quota"


class StoredVideoRecord(Base):
    __tablename__ = "stored_videos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    object_id: Mapped[str | None] = mapped_column(String(512), nullable=True)  # None while the copy runs
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class VideoQuota:
    max_bytes_per_owner: int
    max_total_bytes: int
    min_free_disk_bytes: int  # only where the store can tell its free space (local)


class StorageRefused(Exception):
    """The video is not kept; `reason` is the response's `videoUrlReason`."""

    def __init__(self, reason: Text):
        super().__init__(reason)
        self.reason = reason


def _megabytes(size_bytes: int) -> float:
    return size_bytes / (1024 * 1024)


class VideoLedger:
    """The quota check and the per-video rows. Thread-safe: every call uses its own database session."""

    def __init__(self, url: str, quota: VideoQuota, ttl_s: int, *, clock: Callable[[], float] = time.time) -> None:
        self.quota, self._ttl_s, self._clock = quota, ttl_s, clock
        self._engine = connect(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        self._engine.dispose()

    def now(self) -> float:
        return self._clock()

    def reserve(self, owner: str, size_bytes: int, free_disk_bytes: Callable[[], int | None]) -> int:
        """Counts a video of `size_bytes` against the quotas before it is copied; its row id, or StorageRefused.

        The free space is read under the lock; copies still in flight are taken off it, since their bytes may not
        be on the disk yet."""
        q = self.quota
        with self._sessions.begin() as session:
            hold_lock(session, _QUOTA_LOCK)
            size = StoredVideoRecord.size_bytes
            total, in_flight = session.execute(
                select(
                    func.coalesce(func.sum(size), 0),
                    func.coalesce(func.sum(case((StoredVideoRecord.object_id.is_(None), size), else_=0)), 0),
                )
            ).one()
            owners = session.scalar(select(func.coalesce(func.sum(size), 0)).where(StoredVideoRecord.owner == owner))
            if owners + size_bytes > q.max_bytes_per_owner:
                raise StorageRefused(
                    say(
                        "Not stored: this video would take the owner's stored videos over the "
                        "{megabytes:g} MB quota per owner. Space is freed as earlier videoUrls "
                        "expire.",
                        megabytes=_megabytes(q.max_bytes_per_owner),
                    )
                )
            if total + size_bytes > q.max_total_bytes:
                raise StorageRefused(
                    say(
                        "Not stored: the service's video store is full (its limit is {megabytes:g} "
                        "MB). Space is freed as earlier videoUrls expire.",
                        megabytes=_megabytes(q.max_total_bytes),
                    )
                )
            free = free_disk_bytes()
            if free is not None and free - in_flight - size_bytes < q.min_free_disk_bytes:
                raise StorageRefused(say("Not stored: the server is low on disk space."))
            record = StoredVideoRecord(
                owner=owner, size_bytes=size_bytes, object_id=None, expires_at=self._at(self._clock() + self._ttl_s)
            )
            session.add(record)
            session.flush()
            return record.id

    def confirm(self, reservation: int, object_id: str, expires_at: datetime) -> None:
        """The copy is complete: the row now names the object and lives exactly as long as its URL."""
        with self._sessions.begin() as session:
            session.execute(
                update(StoredVideoRecord)
                .where(StoredVideoRecord.id == reservation)
                .values(object_id=object_id, expires_at=expires_at)
            )

    def release(self, reservation: int) -> None:
        """The copy failed: its bytes no longer count."""
        with self._sessions.begin() as session:
            session.execute(delete(StoredVideoRecord).where(StoredVideoRecord.id == reservation))

    def forget_expired(self, now: float) -> int:
        """Deletes the rows of videos whose URL expired by `now` (their files are purged by then)."""
        with self._sessions.begin() as session:
            return session.execute(
                delete(StoredVideoRecord).where(StoredVideoRecord.expires_at <= self._at(now))
            ).rowcount

    def usage_bytes(self, owner: str | None = None) -> int:
        """Bytes counted against the quotas: the owner's, or everyone's."""
        query = select(func.coalesce(func.sum(StoredVideoRecord.size_bytes), 0))
        if owner is not None:
            query = query.where(StoredVideoRecord.owner == owner)
        with self._sessions() as session:
            return session.scalar(query)

    @staticmethod
    def _at(unix_s: float) -> datetime:
        return datetime.fromtimestamp(unix_s, timezone.utc)
