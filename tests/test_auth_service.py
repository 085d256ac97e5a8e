import asyncio
import random
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from softskills.api.errors import Unauthorized, install_error_handler
from softskills.auth.keys import CHECKSUM_LENGTH, generate_key
from softskills.auth.service import (
    MAX_CACHE_TTL_S,
    UNAUTHORIZED_DETAIL,
    Authenticator,
)
from softskills.auth.store import KeyStore
from tests.auth_support import clean_auth_env, clock, postgres_url, store, store_url  # noqa: F401


class FakeMonotonic:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


class CountingStore:
    """Wraps a real store to count lookups and last-used writes."""

    def __init__(self, inner: KeyStore) -> None:
        self.inner, self.pepper = inner, inner.pepper
        self.lookups = self.touches = 0

    def find_by_lookup_id(self, lookup_id):
        self.lookups += 1
        return self.inner.find_by_lookup_id(lookup_id)

    def touch_last_used(self, key_id, now):
        self.touches += 1
        return self.inner.touch_last_used(key_id, now)


@pytest.fixture
def monotonic():
    return FakeMonotonic()


@pytest.fixture
def counting_store(store):
    return CountingStore(store)


@pytest.fixture
def authenticator(counting_store, clock, monotonic):
    return Authenticator(counting_store, clock=clock, monotonic_s=monotonic)


@pytest.fixture
def key(store):
    full_key, _ = store.create_key("alice", "Production Key", timedelta(days=30))
    return full_key


def _wrong_checksum(full_key: str) -> str:
    last = full_key[-1]
    return full_key[:-1] + ("0" if last != "0" else "1")


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda key: {"Authorization": f"Bearer {key}"},
        lambda key: {"authorization": f"bearer {key}"},
        lambda key: {"AUTHORIZATION": f"BEARER {key}"},
        lambda key: {"Authorization": f"bEaReR   {key}  "},
        lambda key: {"X-API-Key": key},
        lambda key: {"x-api-key": f" {key}"},
        lambda key: {"Authorization": f"Bearer {key}", "X-API-Key": key},
        lambda key: Headers({"authorization": f"Bearer {key}"}),
        lambda key: Headers({"x-api-key": key, "accept": "*/*"}),
    ],
)
def test_accepted_header_styles(authenticator, key, make_headers):
    result = authenticator.authenticate(make_headers(key))
    assert result is not None
    assert (result.owner, result.name, result.prefix) == ("alice", "Production Key", key[:13])


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda key: {},
        lambda key: {"Accept": "*/*"},
        lambda key: {"Authorization": key},  # no scheme
        lambda key: {"Authorization": f"Token {key}"},
        lambda key: {"Authorization": f"Basic {key}"},
        lambda key: {"Authorization": "Bearer"},
        lambda key: {"Authorization": "Bearer "},
        lambda key: {"Authorization": f"Bearer {key} extra"},
        lambda key: {"Authorization": f"Bearer\t{key}"},
        lambda key: {"Authorization": f"Bearer{key}"},
        lambda key: {"Authorization": ""},
        lambda key: {"X-API-Key": ""},
        lambda key: {"X-API-Key": "   "},
        lambda key: {"X-API-Key": f"Bearer {key}"},
        lambda key: {"X-API-Key": key + " " * 300},  # oversized
        lambda key: {"X-API-Key": key + "é"},  # non-ASCII
        lambda key: {"Authorization": f"Bearer {key}", "X-API-Key": generate_key()[0]},  # disagree
        lambda key: {"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": key},  # one malformed
        lambda key: {"X-API-Key": _wrong_checksum(key)},
        lambda key: {"X-API-Key": key[:-1]},
        lambda key: {"X-API-Key": generate_key()[0]},  # valid format, unknown key
        lambda key: {"api_key": key, "key": key, "token": key},  # other names are never read
        lambda key: Headers(raw=[(b"x-api-key", key.encode()), (b"x-api-key", generate_key()[0].encode())]),
    ],
)
def test_rejected_header_values(authenticator, key, make_headers):
    assert authenticator.authenticate(make_headers(key)) is None


def test_malformed_keys_never_reach_the_store(authenticator, counting_store, key):
    for value in ("", key[:-1], _wrong_checksum(key), "ng_" + "x" * 200, key.upper()):
        assert authenticator.authenticate({"X-API-Key": value}) is None
    assert counting_store.lookups == 0


def test_expiry_boundary(authenticator, clock, store):
    full_key, record = store.create_key("alice", "k", timedelta(days=30))
    clock.now = record.expires_at - timedelta(microseconds=1)
    assert authenticator.authenticate({"X-API-Key": full_key}) is not None
    clock.now = record.expires_at  # valid while now < expires_at; the cache must not extend it
    assert authenticator.authenticate({"X-API-Key": full_key}) is None


def test_revoked_key_is_rejected_within_the_cache_ttl(authenticator, counting_store, store, key, monotonic):
    headers = {"Authorization": f"Bearer {key}"}
    assert authenticator.authenticate(headers) is not None
    assert store.revoke("alice", key[:13])
    monotonic.now_s += MAX_CACHE_TTL_S - 0.001
    assert authenticator.authenticate(headers) is not None  # served from this replica's cache
    monotonic.now_s += 0.001
    assert authenticator.authenticate(headers) is None
    lookups = counting_store.lookups
    assert authenticator.authenticate(headers) is None
    assert counting_store.lookups == lookups + 1  # failures are never cached


def test_revoke_then_call_without_cache(store, clock):
    authenticator = Authenticator(store, cache_ttl_s=0, clock=clock)
    full_key, record = store.create_key("alice", "k", None)
    assert authenticator.authenticate({"X-API-Key": full_key}) is not None
    store.revoke("alice", record.prefix)
    assert authenticator.authenticate({"X-API-Key": full_key}) is None


def test_successes_are_cached(authenticator, counting_store, key):
    for _ in range(3):
        assert authenticator.authenticate({"X-API-Key": key}) is not None
    assert counting_store.lookups == 1


def test_cache_ttl_above_the_revocation_promise_is_refused(store):
    with pytest.raises(ValueError):
        Authenticator(store, cache_ttl_s=MAX_CACHE_TTL_S + 1)


def test_last_used_is_recorded_at_most_once_a_minute(counting_store, store, clock, key):
    authenticator = Authenticator(counting_store, cache_ttl_s=0, clock=clock)
    lookup_id = key[3:13]
    assert authenticator.authenticate({"X-API-Key": key}) is not None
    assert store.find_by_lookup_id(lookup_id).last_used_at == clock.now
    clock.advance(timedelta(seconds=59))
    assert authenticator.authenticate({"X-API-Key": key}) is not None
    assert counting_store.touches == 1
    clock.advance(timedelta(seconds=1))
    assert authenticator.authenticate({"X-API-Key": key}) is not None
    assert counting_store.touches == 2
    assert store.find_by_lookup_id(lookup_id).last_used_at == clock.now


def _fuzz_values(rng: random.Random, key: str) -> list[object]:
    values: list[object] = []
    for _ in range(1000):
        kind = rng.randrange(9)
        if kind == 0:
            values.append(bytes(rng.randrange(256) for _ in range(rng.randrange(80))).decode("latin-1"))
        elif kind == 1:
            values.append(rng.choice(["Bearer ", "bearer", "X", "ng_", "é", "\x00"]) * rng.randrange(1, 100_000))
        elif kind == 2:
            scheme = "".join(rng.choice((c.lower(), c.upper())) for c in "bearer")
            spacing = rng.choice(["", " ", "\t", "  ", "\n", "\r\n"])
            values.append(f"{scheme}{spacing}{rng.choice([key[:-1], _wrong_checksum(key), '', 'ng_'])}")
        elif kind == 3:
            position = rng.randrange(3, len(key))
            values.append(key[:position] + rng.choice("aZ9_-é\x00") + key[position + 1 :])
        elif kind == 4:
            values.append(key[:-CHECKSUM_LENGTH] + "".join(rng.choice("0123abcXYZ") for _ in range(CHECKSUM_LENGTH)))
        elif kind == 5:
            values.append(rng.choice(["", "Bearer ", "ng_"]) + generate_key()[0])  # valid format, unknown
        elif kind == 6:
            values.append(rng.choice([None, 7, b"ng_", key.encode(), ["Bearer", key], 3.5]))
        elif kind == 7:
            values.append("".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(60))).replace("\ud800", ""))
        else:
            values.append(f"Bearer {key}" + rng.choice([" x", "\x00", ",", " Bearer " + key]))
    return values


def test_fuzzed_header_values_are_rejected_and_never_raise(authenticator, key):
    rng = random.Random(20250301)
    for value in _fuzz_values(rng, key):
        if isinstance(value, str) and value.strip(" \t") == key:
            continue  # a padded copy of the valid key is valid
        for name in ("Authorization", "X-API-Key", "authorization"):
            assert authenticator.authenticate({name: value}) is None, (name, repr(value)[:80])
        assert authenticator.authenticate({"Authorization": f"Bearer {key}", "X-API-Key": value}) is None


def test_starlette_ingress_pattern(authenticator, key):
    """What the ingress does: authenticate in a worker thread; None means the one 401 (api/errors.py's table)."""

    async def endpoint(request: Request) -> JSONResponse:
        caller = await asyncio.to_thread(authenticator.authenticate, request.headers)
        if caller is None:
            raise Unauthorized()
        return JSONResponse({"owner": caller.owner})

    app = Starlette(routes=[Route("/v1/analyze", endpoint)])
    install_error_handler(app)
    client = TestClient(app)
    assert client.get("/v1/analyze", headers={"Authorization": f"Bearer {key}"}).json() == {"owner": "alice"}
    for response in (
        client.get(f"/v1/analyze?api_key={key}&key={key}&access_token={key}"),
        client.get("/v1/analyze", headers={"Authorization": key}),
        client.get("/v1/analyze", headers={"X-API-Key": "ng_" + "a" * 500}),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": UNAUTHORIZED_DETAIL}
        assert response.headers["WWW-Authenticate"] == "Bearer"
