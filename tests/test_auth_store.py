from datetime import timedelta, timezone

import pytest

from softskills.auth import store as key_store_module
from softskills.auth.hashing import PepperError, secret_digest
from softskills.auth.keys import generate_key, parse_key
from softskills.auth.store import LAST_USED_RESOLUTION, KeyStore
from softskills.db.engine import database_url
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock, postgres_url, store, store_url  # noqa: F401


def test_create_key_stores_only_the_secret_hmac(store, clock):
    full_key, record = store.create_key("alice", "Production Key", timedelta(days=30))
    parsed = parse_key(full_key)
    assert parsed is not None and parsed.lookup_id == record.lookup_id
    assert record.secret_hash == secret_digest(TEST_PEPPER, parsed.secret)
    assert record.pepper_version == TEST_PEPPER.version
    assert (record.owner, record.name, record.prefix) == ("alice", "Production Key", parsed.prefix)
    assert record.created_at == clock.now
    assert record.expires_at == clock.now + timedelta(days=30)
    assert record.revoked_at is None and record.last_used_at is None
    assert store.find_by_lookup_id(record.lookup_id) == record


def test_never_expiring_key(store, clock):
    _, record = store.create_key("alice", "CI", None)
    assert record.expires_at is None
    clock.advance(timedelta(days=3650))
    assert store.find_by_lookup_id(record.lookup_id).status(clock.now) == "active"


def test_timestamps_read_back_as_aware_utc(store):
    _, record = store.create_key("alice", "k", timedelta(days=1))
    stored = store.find_by_lookup_id(record.lookup_id)
    assert stored.created_at.tzinfo == timezone.utc
    assert stored.created_at == record.created_at


def test_expiry_boundary_is_exclusive(store, clock):
    _, record = store.create_key("alice", "k", timedelta(days=30))
    stored = store.find_by_lookup_id(record.lookup_id)
    assert stored.status(stored.expires_at - timedelta(microseconds=1)) == "active"
    assert stored.status(stored.expires_at) == "expired"


def test_list_is_scoped_to_the_owner(store):
    store.create_key("alice", "first", timedelta(days=30))
    store.create_key("alice", "second", None)
    store.create_key("bob", "bobs", None)
    assert [record.name for record in store.list_keys("alice")] == ["first", "second"]
    assert [record.name for record in store.list_keys("bob")] == ["bobs"]
    assert store.list_keys("carol") == []


def test_revoke_is_scoped_to_the_owner_and_accepts_listed_prefixes(store, clock):
    _, record = store.create_key("alice", "k", timedelta(days=30))
    assert not store.revoke("bob", record.prefix)
    assert store.find_by_lookup_id(record.lookup_id).revoked_at is None
    assert store.revoke("alice", record.prefix + "...")
    revoked = store.find_by_lookup_id(record.lookup_id)
    assert revoked.revoked_at == clock.now and revoked.status(clock.now) == "revoked"
    assert not store.revoke("alice", record.prefix)  # already revoked
    assert not store.revoke("alice", "not-a-prefix")


def test_last_used_is_written_at_most_once_a_minute(store, clock):
    _, record = store.create_key("alice", "k", None)
    assert store.touch_last_used(record.id, clock.now)
    assert not store.touch_last_used(record.id, clock.now + LAST_USED_RESOLUTION - timedelta(seconds=1))
    assert store.find_by_lookup_id(record.lookup_id).last_used_at == clock.now
    assert store.touch_last_used(record.id, clock.now + LAST_USED_RESOLUTION)
    assert store.find_by_lookup_id(record.lookup_id).last_used_at == clock.now + LAST_USED_RESOLUTION


def test_lookup_id_collision_is_retried(store, monkeypatch):
    first_key, first = store.create_key("alice", "k", None)
    fresh_key, fresh = generate_key()
    results = iter([(first_key, parse_key(first_key)), (fresh_key, fresh)])
    monkeypatch.setattr(key_store_module, "generate_key", lambda: next(results))
    key, record = store.create_key("alice", "k2", None)
    assert key == fresh_key and record.lookup_id == fresh.lookup_id != first.lookup_id


@pytest.mark.parametrize(
    ("owner", "name", "expires"),
    [(" ", "k", None), ("alice", "", None), ("alice", "x" * 201, None), ("alice", "k", timedelta(0))],
)
def test_invalid_create_arguments(store, owner, name, expires):
    with pytest.raises(ValueError):
        store.create_key(owner, name, expires)


def test_unknown_lookup_id(store):
    assert store.find_by_lookup_id("0123456789") is None


def test_sqlite_file_never_contains_a_key(tmp_path, clock):
    database = tmp_path / "keys.db"
    key_store = KeyStore(f"sqlite:///{database}", pepper=TEST_PEPPER, clock=clock)
    created = [key_store.create_key("alice", f"key {index}", None) for index in range(5)]
    key_store.revoke("alice", created[0][1].prefix)
    key_store.close()
    stored_bytes = b"".join(path.read_bytes() for path in tmp_path.glob("keys.db*"))
    for full_key, record in created:
        secret = parse_key(full_key).secret
        assert record.lookup_id.encode() in stored_bytes  # sanity: we are looking at the right file
        for needle in (full_key, secret, secret[:16], secret[-16:]):
            assert needle.encode() not in stored_bytes
            assert needle.encode("utf-16-le") not in stored_bytes


def test_database_url_defaults_to_sqlite_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SOFTSKILLS_DATA_DIR", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path}/softskills.db"
    monkeypatch.delenv("SOFTSKILLS_DATA_DIR")
    assert database_url() == "sqlite:///var/softskills.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/keys", "postgresql+psycopg://u:p@db:5432/keys"),
        ("postgresql://u@db/keys", "postgresql+psycopg://u@db/keys"),
        ("postgresql+psycopg://u@db/keys", "postgresql+psycopg://u@db/keys"),
    ],
)
def test_database_url_uses_psycopg_for_postgres(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url() == expected


def test_default_sqlite_store_generates_its_pepper_next_to_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'softskills.db'}"
    full_key, record = KeyStore(url).create_key("alice", "k", None)
    reopened = KeyStore(url)
    assert (tmp_path / "data" / "key_pepper").exists()
    assert reopened.find_by_lookup_id(record.lookup_id).secret_hash == secret_digest(
        reopened.pepper, parse_key(full_key).secret
    )


def test_data_dir_is_created_private_and_an_existing_one_keeps_its_mode(tmp_path):
    import stat

    KeyStore(f"sqlite:///{tmp_path / 'new' / 'var' / 'softskills.db'}")
    assert stat.S_IMODE((tmp_path / "new" / "var").stat().st_mode) == 0o700
    (tmp_path / "shared").mkdir(mode=0o750)
    KeyStore(f"sqlite:///{tmp_path / 'shared' / 'softskills.db'}")
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o750


def test_shared_store_refuses_to_invent_a_pepper():
    with pytest.raises(PepperError):
        KeyStore("postgresql+psycopg://nobody@127.0.0.1:1/none")


@pytest.mark.postgres
def test_postgres_run_uses_a_real_server(postgres_url):  # noqa: F811
    key_store = KeyStore(postgres_url, pepper=TEST_PEPPER)
    with key_store._engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
        assert connection.exec_driver_sql("select version()").scalar().startswith("PostgreSQL")
    key_store.close()
