import math
import zlib

import pytest

from softskills.auth.keys import (
    BASE62_ALPHABET,
    CHECKSUM_LENGTH,
    KEY_LENGTH,
    KEY_PATTERN,
    KEY_PREFIX,
    LOOKUP_ID_LENGTH,
    SECRET_LENGTH,
    base62_encode,
    checksum,
    generate_key,
    key_prefix,
    lookup_id_from_prefix,
    parse_key,
)


def _other_base62(character: str) -> str:
    return BASE62_ALPHABET[(BASE62_ALPHABET.index(character) + 1) % 62]


def test_generated_key_layout_and_round_trip():
    full_key, parsed = generate_key()
    assert full_key.startswith("ng_")
    assert len(full_key) == KEY_LENGTH == 3 + LOOKUP_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
    assert KEY_PATTERN.fullmatch(full_key)
    assert full_key == KEY_PREFIX + parsed.lookup_id + parsed.secret + checksum(full_key[:-CHECKSUM_LENGTH])
    assert parse_key(full_key) == parsed
    assert parsed.prefix == key_prefix(parsed.lookup_id) == full_key[: 3 + LOOKUP_ID_LENGTH]


def test_secret_has_at_least_160_bits_and_keys_are_unique():
    assert SECRET_LENGTH * math.log2(62) >= 160
    keys = {generate_key()[0] for _ in range(300)}
    assert len(keys) == 300
    assert len({key[3 : 3 + LOOKUP_ID_LENGTH] for key in keys}) == 300


def test_checksum_is_crc32_of_prefix_and_body_in_base62():
    body = "ng_" + "a" * (LOOKUP_ID_LENGTH + SECRET_LENGTH)
    expected = zlib.crc32(body.encode())
    decoded = 0
    for character in checksum(body):
        decoded = decoded * 62 + BASE62_ALPHABET.index(character)
    assert decoded == expected
    assert len(checksum(body)) == CHECKSUM_LENGTH


def test_base62_encode():
    assert base62_encode(0, 6) == "000000"
    assert base62_encode(61, 6) == "00000z"
    assert base62_encode(62, 6) == "000010"
    assert base62_encode(2**32 - 1, 6) == base62_encode(2**32 - 1, 6).rjust(6, "0")
    with pytest.raises(ValueError):
        base62_encode(62**6, 6)
    with pytest.raises(ValueError):
        base62_encode(-1, 6)


def test_every_single_character_typo_is_rejected():
    full_key, _ = generate_key()
    for position in range(len(KEY_PREFIX), len(full_key)):
        mistyped = full_key[:position] + _other_base62(full_key[position]) + full_key[position + 1 :]
        assert parse_key(mistyped) is None, position


def test_adjacent_transpositions_are_rejected():
    full_key, _ = generate_key()
    for position in range(len(KEY_PREFIX), len(full_key) - 1):
        swapped = full_key[:position] + full_key[position + 1] + full_key[position] + full_key[position + 2 :]
        if swapped != full_key:
            assert parse_key(swapped) is None, position


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: "NG_" + key[3:],
        lambda key: "gh_" + key[3:],
        lambda key: key[:-1],
        lambda key: key + "0",
        lambda key: key + "\n",
        lambda key: " " + key,
        lambda key: key[:10] + "-" + key[11:],
        lambda key: key[:10] + "é" + key[11:],
        lambda key: "",
    ],
)
def test_malformed_keys_are_rejected(mangle):
    full_key, _ = generate_key()
    assert parse_key(mangle(full_key)) is None


@pytest.mark.parametrize("value", [None, 42, b"ng_", ["ng_"], object()])
def test_parse_key_never_raises_on_other_types(value):
    assert parse_key(value) is None


def test_secret_scanner_pattern_finds_leaked_keys():
    full_key, _ = generate_key()
    leaked = f'config = {{"token": "{full_key}"}}\nexport KEY={full_key}'
    assert KEY_PATTERN.findall(leaked) == [full_key, full_key]


def test_repr_hides_the_secret():
    _, parsed = generate_key()
    assert parsed.secret not in repr(parsed)
    assert parsed.lookup_id in repr(parsed)


def test_lookup_id_from_prefix_accepts_the_listed_forms():
    _, parsed = generate_key()
    for form in (parsed.prefix, parsed.prefix + "...", parsed.lookup_id, f"  {parsed.prefix}... "):
        assert lookup_id_from_prefix(form) == parsed.lookup_id
    for bad in ("", "ng_", "ng_short", parsed.prefix + "x", "ng_" + "é" * LOOKUP_ID_LENGTH):
        assert lookup_id_from_prefix(bad) is None
