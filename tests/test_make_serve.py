"""`make serve`'s local API key: kept in a private file, reused while the store accepts it, one active at a time."""

from __future__ import annotations

import stat
from datetime import timedelta

from softskills.auth.service import Authenticator
from softskills.auth.store import KeyStore
from softskills.cli.serve import LOCAL_KEY_FILE_NAME, LOCAL_KEY_NAME, LOCAL_OWNER, local_api_key
from softskills.db.engine import database_url
from softskills.db.files import data_dir
from tests.auth_support import clean_auth_env  # noqa: F401  (autouse: a throwaway data dir)


def _active_local_keys(store: KeyStore) -> list[str]:
    return [r.prefix for r in store.list_keys(LOCAL_OWNER) if r.name == LOCAL_KEY_NAME and r.revoked_at is None]


def test_the_local_key_is_kept_private_and_reused():
    store = KeyStore(database_url())
    key, expires_at, created = local_api_key(store)
    assert created
    kept = data_dir() / LOCAL_KEY_FILE_NAME
    assert kept.read_text() == key + "\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(data_dir().stat().st_mode) == 0o700
    for _ in range(3):  # restarts
        assert local_api_key(store) == (key, expires_at, False)
    assert _active_local_keys(store) == [key[:13]]
    caller = Authenticator(store, cache_ttl_s=0).authenticate({"Authorization": f"Bearer {key}"})
    assert caller is not None and caller.owner == LOCAL_OWNER
    assert timedelta(days=89) < expires_at - store.list_keys(LOCAL_OWNER)[0].created_at <= timedelta(days=90)


def test_older_make_serve_keys_are_revoked_and_other_keys_kept():
    store = KeyStore(database_url())
    never_expiring = [store.create_key(LOCAL_OWNER, LOCAL_KEY_NAME, None)[0] for _ in range(3)]  # older versions
    own_key, _ = store.create_key(LOCAL_OWNER, "my script", None)
    key, _, created = local_api_key(store)
    assert created and _active_local_keys(store) == [key[:13]]
    authenticate = Authenticator(store, cache_ttl_s=0).authenticate
    assert all(authenticate({"X-API-Key": old}) is None for old in never_expiring)
    assert authenticate({"X-API-Key": own_key}) is not None


def test_a_revoked_foreign_or_unreadable_kept_key_is_replaced():
    store = KeyStore(database_url())
    first, _, _ = local_api_key(store)
    assert store.revoke(LOCAL_OWNER, first[:13])
    second, _, created = local_api_key(store)
    assert created and second != first and _active_local_keys(store) == [second[:13]]
    kept = data_dir() / LOCAL_KEY_FILE_NAME
    foreign, _ = store.create_key("someone-else", LOCAL_KEY_NAME, None)
    for content in (foreign, "not a key at all", ""):
        kept.write_text(content)
        replaced, _, created = local_api_key(store)
        assert created and replaced not in (first, second, foreign)
        assert kept.read_text() == replaced + "\n"
    assert Authenticator(store, cache_ttl_s=0).authenticate({"X-API-Key": foreign}) is not None  # not ours to revoke
    assert len(_active_local_keys(store)) == 1
