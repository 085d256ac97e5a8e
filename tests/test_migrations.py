"""The key store's schema comes from Alembic migrations (db/migrations): a store made by the first release (no
migrations) and a store at any revision upgrade in place, keeping their keys; the models never drift from the
migrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from softskills.auth import accounts  # noqa: F401  (their tables are in the shared metadata)
from softskills.auth.keys import parse_key
from softskills.auth.store import KeyStore
from softskills.db.base import Base
from softskills.db.engine import MIGRATIONS_DIR, dispose_engines
from softskills.jobs import store as job_store  # noqa: F401  (likewise)
from softskills.storage import quota  # noqa: F401
from softskills.subjects import store as subject_store  # noqa: F401
from testkit.postgres_server import postgres_url  # noqa: F401
from tests.auth_support import TEST_PEPPER, store_url  # noqa: F401

HEAD = "0004"


def alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def to_first_release(url: str) -> None:
    """Takes a migrated store back to the first release's schema: the baseline tables, no alembic_version."""
    dispose_engines()
    engine = create_engine(url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0001")
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


def revision_of(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return revision


def test_a_first_release_store_upgrades_in_place_and_keeps_its_keys(store_url):  # noqa: F811
    key, _ = KeyStore(store_url, pepper=TEST_PEPPER).create_key("alice", "Old key", timedelta(days=30))
    to_first_release(store_url)
    tables = set(inspect(create_engine(store_url)).get_table_names())
    assert "stored_videos" not in tables and "api_keys" in tables and "alembic_version" not in tables

    reopened = KeyStore(store_url, pepper=TEST_PEPPER)
    assert revision_of(store_url) == HEAD
    assert {
        "stored_videos",
        "named_locks",
        "jobs",
        "webhook_attempts",
        "webhook_secrets",
        "subject_sessions",
        "subject_settings",
    } <= set(inspect(create_engine(store_url)).get_table_names())
    record = reopened.find_by_lookup_id(parse_key(key).lookup_id)
    assert record is not None and record.owner == "alice" and record.name == "Old key"


def test_the_models_match_the_newest_migration(store_url):  # noqa: F811
    """A model change without its migration fails here."""
    KeyStore(store_url, pepper=TEST_PEPPER)
    engine = create_engine(store_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("replicas", [4])
def test_replicas_starting_together_migrate_once(store_url, replicas):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    from softskills.db.engine import migrate

    dispose_engines()
    engines = [create_engine(store_url) for _ in range(replicas)]
    with ThreadPoolExecutor(replicas) as pool:
        list(pool.map(migrate, engines))
    assert revision_of(store_url) == HEAD
