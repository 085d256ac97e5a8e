"""Shared pieces of the auth tests: a settable clock and key stores on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import MetaData, create_engine

from softskills.auth.hashing import PEPPER_ENV, PEPPER_FILE_ENV, PEPPER_VERSION_ENV, Pepper
from softskills.auth.store import KeyStore
from softskills.db.engine import DATABASE_URL_ENV, dispose_engines
from softskills.db.files import DATA_DIR_ENV
from testkit.postgres_server import postgres_url  # noqa: F401  (fixture used via getfixturevalue)

TEST_PEPPER = Pepper(b"test-pepper-" + b"0" * 32)
START = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """Wall clock the test moves by hand, so expiry boundaries are exact."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(autouse=True)
def clean_auth_env(monkeypatch, tmp_path):
    """Tests never read the developer's database, pepper or ./var."""
    for name in (DATABASE_URL_ENV, PEPPER_ENV, PEPPER_FILE_ENV, PEPPER_VERSION_ENV, "SOFTSKILLS_OWNER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    dispose_engines()
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)  # every table the migrations made, alembic_version too
    tables.drop_all(engine)
    engine.dispose()


@pytest.fixture
def store(store_url, clock) -> Iterator[KeyStore]:
    key_store = KeyStore(store_url, pepper=TEST_PEPPER, clock=clock)
    yield key_store
    key_store.close()
