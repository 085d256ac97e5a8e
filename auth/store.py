"""Key storage with SQLAlchemy, in the key store's database (db/: an SQLite file by default, PostgreSQL via
``DATABASE_URL``).

Rows hold the HMAC of the secret, never the key. Records leave this module as frozen dataclasses
so callers (and other threads) never hold live ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Integer, LargeBinary, String, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from softskills.auth.hashing import Pepper, load_pepper, secret_digest
from softskills.auth.keys import LOOKUP_ID_LENGTH, generate_key, key_prefix, lookup_id_from_prefix
from softskills.db.base import MAX_OWNER_CHARS, Base, Clock, UTCDateTime, utc_now
from softskills.db.engine import connect

LAST_USED_RESOLUTION = timedelta(minutes=1)  # bounds write load: one UPDATE per key per minute
MAX_NAME_CHARS = 200
_CREATE_ATTEMPTS = 5  # lookup id collisions are ~2**-59 per pair; retrying is enough


def database_pepper(url: str) -> Pepper:
    """The pepper of the keys in this database: from the environment, or, for an embedded SQLite store only, the
    file beside the database (created once). Replicas sharing a server must share one, so only they may not
    invent it."""
    parsed_url = make_url(url)
    is_sqlite = parsed_url.get_backend_name() == "sqlite"
    return load_pepper(Path(parsed_url.database).parent if is_sqlite and parsed_url.database else None)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    lookup_id: Mapped[str] = mapped_column(String(LOOKUP_ID_LENGTH), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    pepper_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # None = never
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class KeyRecord:
    id: int
    owner: str
    name: str
    lookup_id: str
    secret_hash: bytes = field(repr=False)
    pepper_version: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def prefix(self) -> str:
        return key_prefix(self.lookup_id)

    def status(self, now: datetime) -> str:
        """ "revoked", "expired" or "active". A key is valid while ``now < expires_at``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    @classmethod
    def from_row(cls, row: ApiKey) -> KeyRecord:
        return cls(
            id=row.id,
            owner=row.owner,
            name=row.name,
            lookup_id=row.lookup_id,
            secret_hash=row.secret_hash,
            pepper_version=row.pepper_version,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )


class KeyStore:
    """All key reads and writes. Thread-safe: every call uses its own session."""

    def __init__(self, url: str, *, pepper: Pepper | None = None, clock: Clock = utc_now) -> None:
        self.pepper = pepper if pepper is not None else database_pepper(url)
        self._engine = connect(url)
        self._clock = clock
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        self._engine.dispose()

    def create_key(self, owner: str, name: str, expires: timedelta | None) -> tuple[str, KeyRecord]:
        """Return the full key (show it once, it is not recoverable) and its stored record."""
        owner = _checked_text("owner", owner, MAX_OWNER_CHARS)
        name = _checked_text("name", name, MAX_NAME_CHARS)
        if expires is not None and expires <= timedelta(0):
            raise ValueError("expires must be positive, or None for a key that never expires")
        attempts_left = _CREATE_ATTEMPTS
        while True:
            full_key, parsed = generate_key()
            created_at = self._clock()
            row = ApiKey(
                owner=owner,
                name=name,
                lookup_id=parsed.lookup_id,
                secret_hash=secret_digest(self.pepper, parsed.secret),
                pepper_version=self.pepper.version,
                created_at=created_at,
                expires_at=None if expires is None else created_at + expires,
            )
            try:
                with self._sessions.begin() as session:
                    session.add(row)
                    session.flush()
                    return full_key, KeyRecord.from_row(row)
            except IntegrityError:
                attempts_left -= 1
                if not attempts_left:
                    raise

    def list_keys(self, owner: str) -> list[KeyRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiKey).where(ApiKey.owner == owner).order_by(ApiKey.created_at, ApiKey.id))
            return [KeyRecord.from_row(row) for row in rows]

    def revoke(self, owner: str, prefix: str) -> bool:
        """Revoke the owner's key with this prefix; False if the owner has no such unrevoked key."""
        lookup_id = lookup_id_from_prefix(prefix)
        if lookup_id is None:
            return False
        with self._sessions.begin() as session:
            result = session.execute(
                update(ApiKey)
                .where(ApiKey.owner == owner, ApiKey.lookup_id == lookup_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
            return result.rowcount == 1

    def find_by_lookup_id(self, lookup_id: str) -> KeyRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.lookup_id == lookup_id)).one_or_none()
            return None if row is None else KeyRecord.from_row(row)

    def touch_last_used(self, key_id: int, now: datetime) -> bool:
        """Record use at most once a minute; the condition in SQL keeps replicas from racing."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at <= now - LAST_USED_RESOLUTION),
                )
                .values(last_used_at=now)
            )
            return result.rowcount == 1


def _checked_text(label: str, value: str, max_chars: int) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{label} must not be empty")
    if len(value) > max_chars:
        raise ValueError(f"{label} must be at most {max_chars} characters")
    return value
