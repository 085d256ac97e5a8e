"""Request authentication: header parsing, key verification and a short success cache.

Every failure, whatever its cause, looks the same to the client (one 401 body), so responses do
not tell an attacker which part of a guess was wrong. Only successes are cached, and for at most
``MAX_CACHE_TTL_S``, so a revocation reaches every replica within that time.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from softskills.auth.hashing import secret_matches
from softskills.auth.keys import parse_key
from softskills.auth.store import LAST_USED_RESOLUTION, KeyStore
from softskills.db.base import Clock, utc_now

UNAUTHORIZED_DETAIL = "Invalid or expired API key."
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}
MAX_HEADER_VALUE_CHARS = 200  # a key is 49 characters; anything far longer is not one
MAX_CACHE_TTL_S = 5.0  # the promised upper bound on how long a revoked key keeps working
MAX_CACHE_ENTRIES = 10_000

# RFC 6750 section 2.1: scheme is case-insensitive, then one or more spaces, then the token.
_BEARER = re.compile(r"bearer +(\S+)", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class AuthenticatedKey:
    """Who is calling; safe to log (no secret)."""

    key_id: int
    owner: str
    name: str
    prefix: str
    expires_at: datetime | None


@dataclass(frozen=True)
class _CacheEntry:
    key: AuthenticatedKey
    cached_until_monotonic_s: float


class Authenticator:
    """Checks ``Authorization: Bearer <key>`` / ``X-API-Key: <key>``; one instance per replica.

    Blocking (database I/O): call it from a worker thread, e.g. ``asyncio.to_thread``. Database
    errors propagate, so an outage is reported as such instead of as a bad key.
    """

    def __init__(
        self,
        store: KeyStore,
        cache_ttl_s: float = MAX_CACHE_TTL_S,
        *,
        clock: Clock = utc_now,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= cache_ttl_s <= MAX_CACHE_TTL_S:
            raise ValueError(f"cache_ttl_s must be between 0 and {MAX_CACHE_TTL_S}")
        self._store = store
        self._cache_ttl_s = cache_ttl_s
        self._clock = clock
        self._monotonic_s = monotonic_s
        # Keyed by SHA-256 of the key, so process memory never holds keys beyond the request.
        self._cache: OrderedDict[bytes, _CacheEntry] = OrderedDict()
        self._cache_lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str]) -> AuthenticatedKey | None:
        """The caller's key, or None (answer 401). Never raises on header content."""
        full_key = extract_key(headers)
        parsed = parse_key(full_key)
        if full_key is None or parsed is None:
            return None
        now = self._clock()
        cache_id = hashlib.sha256(full_key.encode("ascii")).digest()
        cached = self._cached(cache_id, now)
        if cached is not None:
            return cached
        record = self._store.find_by_lookup_id(parsed.lookup_id)
        if (
            record is None
            or record.pepper_version != self._store.pepper.version
            or not secret_matches(self._store.pepper, parsed.secret, record.secret_hash)
            or record.status(now) != "active"
        ):
            return None
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
            self._store.touch_last_used(record.id, now)
        key = AuthenticatedKey(record.id, record.owner, record.name, record.prefix, record.expires_at)
        self._remember(cache_id, key)
        return key

    def _cached(self, cache_id: bytes, now: datetime) -> AuthenticatedKey | None:
        with self._cache_lock:
            entry = self._cache.get(cache_id)
            if entry is None:
                return None
            expired = entry.key.expires_at is not None and now >= entry.key.expires_at
            if expired or self._monotonic_s() >= entry.cached_until_monotonic_s:
                del self._cache[cache_id]
                return None
            return entry.key

    def _remember(self, cache_id: bytes, key: AuthenticatedKey) -> None:
        if self._cache_ttl_s == 0:
            return
        with self._cache_lock:
            self._cache[cache_id] = _CacheEntry(key, self._monotonic_s() + self._cache_ttl_s)
            self._cache.move_to_end(cache_id)
            while len(self._cache) > MAX_CACHE_ENTRIES:
                self._cache.popitem(last=False)


def extract_key(headers: Mapping[str, str]) -> str | None:
    """The key from ``Authorization: Bearer`` and/or ``X-API-Key``, or None.

    Any malformed credential header rejects the request, as do two headers that disagree:
    guessing which one the client meant could authenticate the wrong account. Works with plain
    dicts and case-insensitive multi-value mappings such as Starlette's ``Headers``.
    """
    candidates: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str):
            continue
        header_name = name.lower()
        if header_name == "authorization":
            cleaned = _clean_header_value(value)
            match = _BEARER.fullmatch(cleaned) if cleaned is not None else None
            if match is None:
                return None
            candidates.add(match.group(1))
        elif header_name == "x-api-key":
            cleaned = _clean_header_value(value)
            if cleaned is None or any(character.isspace() for character in cleaned):
                return None
            candidates.add(cleaned)
    return candidates.pop() if len(candidates) == 1 else None


def _clean_header_value(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE_CHARS or not value.isascii():
        return None
    value = value.strip(" \t")
    return value or None
