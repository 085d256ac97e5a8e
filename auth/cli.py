"""``softskills keys create|list|revoke`` and ``softskills users create|reset-password`` (cli/main.py dispatches):
keys and dashboard accounts live in the store that the API reads.

The store is the one the API uses (``DATABASE_URL``, else the SQLite file under
``SOFTSKILLS_DATA_DIR``). Commands act on one owner's keys only (``--owner``, default
``SOFTSKILLS_OWNER`` or "local").
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import datetime, timedelta

from softskills.auth.hashing import PepperError
from softskills.auth.store import KeyRecord, KeyStore
from softskills.db.base import utc_now
from softskills.db.engine import database_url

OWNER_ENV = "SOFTSKILLS_OWNER"
DEFAULT_OWNER = "local"
EXPIRY_CHOICES: dict[str, timedelta | None] = {
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
    "never": None,
}
DEFAULT_EXPIRY = "30d"  # short-lived by default, like GitHub's tokens
_TABLE_COLUMNS = ("NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATUS")


def add_parsers(commands) -> None:
    """The `keys` and `users` commands."""
    keys = commands.add_parser("keys", help="Manage API keys.")
    key_commands = keys.add_subparsers(dest="key_command", required=True)

    owner_option = argparse.ArgumentParser(add_help=False)
    owner_option.add_argument(
        "--owner",
        default=os.environ.get(OWNER_ENV) or DEFAULT_OWNER,
        help=f"Account that owns the keys (default: ${OWNER_ENV} or '{DEFAULT_OWNER}').",
    )

    create = key_commands.add_parser(
        "create", parents=[owner_option], help="Create a key and print it (shown only once)."
    )
    create.add_argument("--name", required=True, help='What the key is for, e.g. "Production Key".')
    create.add_argument(
        "--expires",
        choices=tuple(EXPIRY_CHOICES),
        default=DEFAULT_EXPIRY,
        help=f"Lifetime of the key (default: {DEFAULT_EXPIRY}).",
    )
    key_commands.add_parser("list", parents=[owner_option], help="List keys (never shows a key).")
    revoke = key_commands.add_parser("revoke", parents=[owner_option], help="Revoke a key now.")
    revoke.add_argument("prefix", help="The key's prefix as listed, e.g. ng_k83js9dQ2x.")
    users = commands.add_parser("users", help="Manage dashboard accounts.")
    user_commands = users.add_subparsers(dest="user_command", required=True)
    password_option = argparse.ArgumentParser(add_help=False)
    password_option.add_argument("--email", required=True, help="The sign-in email.")
    password_option.add_argument(
        "--password-stdin",
        action="store_true",
        help="Read the password from stdin instead of generating one (printed once).",
    )
    create_user = user_commands.add_parser("create", parents=[password_option], help="Create a dashboard account.")
    create_user.add_argument(
        "--owner", help="Owner name of the account's API keys (default: the email), as in `keys --owner`."
    )
    user_commands.add_parser(
        "reset-password", parents=[password_option], help="Set a new password; signs the account out everywhere."
    )


def run(args: argparse.Namespace) -> int:
    if args.command == "users":
        return _users(args)
    try:
        store = KeyStore(database_url())
    except PepperError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.key_command == "create":
            return _create(store, args.owner, args.name, args.expires)
        if args.key_command == "list":
            return _list(store, args.owner)
        return _revoke(store, args.owner, args.prefix)
    finally:
        store.close()


def _create(store: KeyStore, owner: str, name: str, expiry_choice: str) -> int:
    try:
        full_key, record = store.create_key(owner, name, EXPIRY_CHOICES[expiry_choice])
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # The key alone goes to stdout so scripts can capture it: KEY=$(softskills keys create ...).
    print(full_key)
    print(
        f"Created key {record.name!r} ({record.prefix}...) for owner {record.owner!r}, "
        f"expires {_format_time(record.expires_at, 'never')}.\n"
        "Copy it now: it is not stored and cannot be shown again.",
        file=sys.stderr,
    )
    return 0


def _list(store: KeyStore, owner: str) -> int:
    now = utc_now()
    rows = [_table_row(record, now) for record in store.list_keys(owner)]
    if not rows:
        print(f"No keys for owner {owner!r}.", file=sys.stderr)
        return 0
    widths = [max(len(cell) for cell in column) for column in zip(_TABLE_COLUMNS, *rows)]
    for row in (_TABLE_COLUMNS, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _revoke(store: KeyStore, owner: str, prefix: str) -> int:
    if store.revoke(owner, prefix):
        print(f"Revoked {prefix}. Requests with it are rejected within 5 seconds.")
        return 0
    print(f"error: owner {owner!r} has no active key with prefix {prefix!r}.", file=sys.stderr)
    return 1


def _table_row(record: KeyRecord, now: datetime) -> tuple[str, ...]:
    return (
        record.name,
        record.prefix + "...",
        _format_time(record.created_at, ""),
        _format_time(record.expires_at, "never"),
        _format_time(record.last_used_at, "never"),
        record.status(now),
    )


def _users(args: argparse.Namespace) -> int:
    from softskills.auth.accounts import AccountStore

    generated = not args.password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\n")
    accounts = AccountStore(database_url())
    try:
        if args.user_command == "create":
            account = accounts.create_account(args.email, password, args.owner)
            done = f"Created account {account.email!r} (keys filed under owner {account.owner!r})."
        elif accounts.set_password(args.email, password):
            done = f"New password set for {args.email!r}; its sessions are signed out."
        else:
            print(f"error: no account with email {args.email!r}.", file=sys.stderr)
            return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        accounts.close()
    if generated:
        print(password)  # alone on stdout, like `keys create`, so scripts can capture it
        done += " The password above is shown only this once."
    print(done, file=sys.stderr)
    return 0


def generate_password() -> str:
    """~119 bits from `secrets`, URL-safe so it pastes cleanly."""
    return secrets.token_urlsafe(15)


def _format_time(moment: datetime | None, missing: str) -> str:
    return missing if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
