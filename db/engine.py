"""The process's engine on the key store's database: an SQLite file in the data dir by default, PostgreSQL via
``DATABASE_URL``; the schema is brought to the newest migration (db/migrations) when the engine is first opened."""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Engine, make_url

from softskills.db.files import create_private_dir, data_dir

DATABASE_URL_ENV = "DATABASE_URL"
SQLITE_FILE_NAME = "softskills.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x50F75C11  # an arbitrary constant: the PostgreSQL advisory lock taken while migrating

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


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


def connect(url: str | URL) -> Engine:
    """The process's one engine (and connection pool) on the key store's database, shared by the key store, the
    accounts, the video quota ledger and the jobs; the schema is brought to the newest migration on first use. An
    SQLite file's directory is created first (private)."""
    parsed_url = make_url(url)
    key = parsed_url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            is_sqlite = parsed_url.get_backend_name() == "sqlite"
            if is_sqlite and parsed_url.database not in (None, "", ":memory:"):
                create_private_dir(Path(parsed_url.database).parent)
            engine = create_engine(
                parsed_url, pool_pre_ping=not is_sqlite, connect_args={"check_same_thread": False} if is_sqlite else {}
            )
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
    """Upgrades the schema to the newest Alembic revision (db/migrations), so an existing SQLite or PostgreSQL
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
