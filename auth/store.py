"""Key storage with SQLAlchemy: an SQLite file by default, PostgreSQL via ``DATABASE_URL``.

Rows hold the HMAC of the secret, never the key. Records leave this module as frozen dataclasses
so callers (and other threads) never hold live ORM objects.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import (
    DateTime,
    Integer,
    LargeBinary,
    String,
    create_engine,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from softskills.auth.hashing import Pepper, create_private_dir, load_pepper, secret_digest
from softskills.auth.keys import LOOKUP_ID_LENGTH, generate_key, key_prefix, lookup_id_from_prefix

DATA_DIR_ENV = "SOFTSKILLS_DATA_DIR"
DATABASE_URL_ENV = "DATABASE_URL"
DEFAULT_DATA_DIR = "var"
SQLITE_FILE_NAME = "softskills.db"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # bounds write load: one UPDATE per key per minute
MAX_OWNER_CHARS = 128
MAX_NAME_CHARS = 200
_CREATE_ATTEMPTS = 5  # lookup id collisions are ~2**-59 per pair; retrying is enough

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def data_dir() -> Path:
    """``SOFTSKILLS_DATA_DIR``, else ``./var``."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def database_url() -> str:
    """``DATABASE_URL``, else the SQLite file in the data dir."""
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        return f"sqlite:///{data_dir() / SQLITE_FILE_NAME}"
    return with_psycopg_driver(url)


def with_psycopg_driver(url: str) -> str:
    """Plain ``postgres://`` URLs (as hosting providers hand them out) use psycopg 3, our driver."""
    for plain_scheme in ("postgres://", "postgresql://"):
        if url.startswith(plain_scheme):
            return "postgresql+psycopg://" + url[len(plain_scheme) :]
    return url


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x50F75C11  # an arbitrary constant: the PostgreSQL advisory lock taken while migrating


def connect(url: str | URL) -> Engine:
    """The process's one engine (and connection pool) on the key store's database, shared by the key store, the
    accounts and the video quota ledger; the schema is brought to the newest migration on first use. An SQLite
    file's directory is created first (private)."""
    parsed_url = make_url(url)
    key = parsed_url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            is_sqlite = parsed_url.get_backend_name() == "sqlite"
            if is_sqlite and parsed_url.database not in (None, "", ":memory:"):
                create_private_dir(Path(parsed_url.database).parent)
            engine = create_engine(parsed_url, pool_pre_ping=not is_sqlite,
                                   connect_args={"check_same_thread": False} if is_sqlite else {})
            migrate(engine)
            if parsed_url.database not in (None, "", ":memory:"):  # an in-memory database is its engine's own
                _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Closes every shared engine; the next connect() opens (and migrates) afresh. For tests that drop a schema."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def migrate(engine: Engine) -> None:
    """Upgrades the schema to the newest Alembic revision (auth/migrations), so an existing SQLite or PostgreSQL
    store upgrades in place. A store created before migrations existed is stamped with the revision its tables
    match first. Replicas starting together take turns: a PostgreSQL advisory lock, or an exclusive file lock
    beside an SQLite database."""
    from alembic import command
    from alembic.config import Config

    with _migration_lock(engine), engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "api_keys" in tables:
            command.stamp(config, "0002" if "stored_videos" in tables else "0001")
        command.upgrade(config, "head")


@contextmanager
def _migration_lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out; SQLite stores no zone, so naive values read back are UTC."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("API key timestamps must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class NamedLock(Base):
    """One row per lock name; `hold_lock` writes it to serialise a read-check-write across processes."""

    __tablename__ = "named_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)


def hold_lock(session: Session, name: str) -> None:
    """Holds `name` until the session's transaction ends, on every replica: the UPDATE takes the row's lock on
    PostgreSQL and the database's write lock on SQLite. Call it first in the transaction, so that the counts read
    after it include every transaction that held it before."""
    locked = update(NamedLock).where(NamedLock.name == name).values(name=name)
    if session.execute(locked).rowcount:
        return
    try:  # the lock's first use
        with session.begin_nested():
            session.execute(insert(NamedLock).values(name=name))
    except IntegrityError:  # another transaction created it first (PostgreSQL): wait for it as for any holder
        session.execute(locked)


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
        """"revoked", "expired" or "active". A key is valid while ``now < expires_at``."""
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
        parsed_url = make_url(url)
        is_sqlite = parsed_url.get_backend_name() == "sqlite"
        # Only an embedded store may invent its own pepper: replicas sharing a server must share one.
        local_pepper_dir = Path(parsed_url.database).parent if is_sqlite and parsed_url.database else None
        self.pepper = pepper if pepper is not None else load_pepper(local_pepper_dir)
        self._engine = connect(parsed_url)
        self._clock = clock
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        self._engine.dispose()

    def create_key(
        self, owner: str, name: str, expires: timedelta | None
    ) -> tuple[str, KeyRecord]:
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
            rows = session.scalars(
                select(ApiKey).where(ApiKey.owner == owner).order_by(ApiKey.created_at, ApiKey.id)
            )
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
