"""API key format: ``ng_`` + lookup id + secret + CRC32 checksum, all base62.

The layout follows GitHub's tokens: a fixed prefix and fixed length make leaked keys easy for secret
scanners to find (see ``KEY_PATTERN``), and the checksum lets us reject mistyped or made-up keys
without a database round trip. The lookup id is public (it is what ``keys list`` shows); only the
secret part is sensitive, and only its HMAC is stored.
"""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass

KEY_PREFIX = "ng_"
BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOOKUP_ID_LENGTH = 10  # ~59 bits: collisions are retried, and the id is short enough to type
SECRET_LENGTH = 30  # 30 * log2(62) ~= 178 bits of entropy (>= 160 required)
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits
KEY_LENGTH = len(KEY_PREFIX) + LOOKUP_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH

# For secret scanners and log redaction.
KEY_PATTERN = re.compile(rf"\b{KEY_PREFIX}[0-9A-Za-z]{{{LOOKUP_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH}}}\b")
_LOOKUP_ID_PATTERN = re.compile(rf"[0-9A-Za-z]{{{LOOKUP_ID_LENGTH}}}")


@dataclass(frozen=True)
class ParsedKey:
    """A key whose format and checksum are valid; it may still be unknown, expired or revoked."""

    lookup_id: str
    secret: str

    def __repr__(self) -> str:  # never let the secret reach a log line through repr()
        return f"ParsedKey(lookup_id={self.lookup_id!r}, secret=<redacted>)"

    @property
    def prefix(self) -> str:
        return key_prefix(self.lookup_id)


def base62_encode(number: int, width: int) -> str:
    """Encode a non-negative int, left-padded with '0' to ``width`` characters."""
    if number < 0:
        raise ValueError("base62_encode needs a non-negative number")
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    encoded = "".join(reversed(digits)).rjust(width, "0")
    if len(encoded) > width:
        raise ValueError(f"{number} does not fit in {width} base62 digits")
    return encoded


def checksum(body: str) -> str:
    """CRC32 of everything before the checksum (prefix included), so a typo anywhere is caught."""
    return base62_encode(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def generate_key() -> tuple[str, ParsedKey]:
    """Return a new full key and its parts; the caller stores only the secret's HMAC."""
    parsed = ParsedKey(_random_base62(LOOKUP_ID_LENGTH), _random_base62(SECRET_LENGTH))
    body = KEY_PREFIX + parsed.lookup_id + parsed.secret
    return body + checksum(body), parsed


def parse_key(text: object) -> ParsedKey | None:
    """Split a full key into lookup id and secret, or return None if format or checksum is wrong.

    Never raises, whatever ``text`` is: callers feed it untrusted header values.
    """
    if not isinstance(text, str) or len(text) != KEY_LENGTH or not KEY_PATTERN.fullmatch(text):
        return None
    body, given_checksum = text[:-CHECKSUM_LENGTH], text[-CHECKSUM_LENGTH:]
    if not secrets.compare_digest(checksum(body), given_checksum):
        return None
    lookup_start = len(KEY_PREFIX)
    secret_start = lookup_start + LOOKUP_ID_LENGTH
    return ParsedKey(body[lookup_start:secret_start], body[secret_start:])


def key_prefix(lookup_id: str) -> str:
    """The public, listable part of a key: ``ng_`` + lookup id."""
    return KEY_PREFIX + lookup_id


def lookup_id_from_prefix(prefix: str) -> str | None:
    """Accept ``ng_<id>``, ``ng_<id>...`` (as listed) or the bare id; None if it is not one."""
    candidate = prefix.strip().removesuffix("...").removesuffix("…")
    candidate = candidate.removeprefix(KEY_PREFIX)
    return candidate if _LOOKUP_ID_PATTERN.fullmatch(candidate) else None
