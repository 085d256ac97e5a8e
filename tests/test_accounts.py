"""Dashboard accounts: Argon2 hashing, sessions, sign-in rate limiting, CSRF tokens, and `softskills users`."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from softskills.auth.accounts import AccountStore, LoginPolicy, User, WebSession, csrf_matches, csrf_token
from softskills.cli.main import main
from softskills.db.engine import database_url
from tests.auth_support import clean_auth_env, clock, postgres_url, store_url  # noqa: F401

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # same algorithm, test-sized cost
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(store_url, clock):
    """On SQLite, and on PostgreSQL (marker `postgres`) like the key store."""
    store = AccountStore(
        store_url,
        clock=clock,
        hasher=FAST_HASHER,
        policy=LoginPolicy(max_failures_per_email=3, max_failures_per_ip=5, window=timedelta(minutes=15)),
    )
    yield store
    store.close()


def _stored_hash(accounts: AccountStore, email: str) -> str:
    with accounts._sessions() as session:
        return session.scalars(select(User.password_hash).where(User.email == email)).one()


def test_password_is_stored_as_argon2id_and_verified(accounts):
    account = accounts.create_account(" Alice@Example.com ", PASSWORD)
    assert (account.email, account.owner) == ("alice@example.com", "alice@example.com")
    stored = _stored_hash(accounts, "alice@example.com")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.verify_login("ALICE@example.com", PASSWORD, "10.0.0.1").account == account
    assert accounts.verify_login("alice@example.com", PASSWORD + "!", "10.0.0.1").account is None


def test_weaker_hash_is_upgraded_on_sign_in(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    AccountStore(url, clock=clock, hasher=FAST_HASHER).create_account("bob@example.com", PASSWORD)
    stronger = AccountStore(url, clock=clock, hasher=PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    assert "t=1" in _stored_hash(stronger, "bob@example.com")
    assert stronger.verify_login("bob@example.com", PASSWORD, "ip").account is not None
    assert "t=2" in _stored_hash(stronger, "bob@example.com")


@pytest.mark.parametrize(("email", "password"), [("no-at-sign", PASSWORD), ("a@b.c", "short"), ("a@b.c", "")])
def test_invalid_accounts_are_refused(accounts, email, password):
    with pytest.raises(ValueError):
        accounts.create_account(email, password)


def test_duplicate_email_is_refused(accounts):
    accounts.create_account("a@example.com", PASSWORD)
    with pytest.raises(ValueError, match="already exists"):
        accounts.create_account("A@example.com", PASSWORD)


def test_failed_sign_ins_per_email_are_throttled_then_released(accounts, clock):
    accounts.create_account("a@example.com", PASSWORD)
    for _ in range(3):
        assert accounts.verify_login("a@example.com", "wrong password", "10.0.0.1").retry_after_s is None
    clock.advance(timedelta(minutes=5))
    refused = accounts.verify_login("a@example.com", PASSWORD, "10.0.0.2")  # right password, other address
    assert refused.throttled and refused.account is None
    assert refused.retry_after_s == 10 * 60 + 1  # the oldest failure leaves the 15 min window in 10 min
    clock.advance(timedelta(minutes=10, seconds=1))
    assert accounts.verify_login("a@example.com", PASSWORD, "10.0.0.2").account is not None


def test_success_clears_the_email_failures(accounts):
    accounts.create_account("a@example.com", PASSWORD)
    for _ in range(2):
        accounts.verify_login("a@example.com", "wrong password", "ip-a")
    assert accounts.verify_login("a@example.com", PASSWORD, "ip-a").account is not None
    for _ in range(2):
        accounts.verify_login("a@example.com", "wrong password", "ip-b")
    assert not accounts.verify_login("a@example.com", PASSWORD, "ip-b").throttled


def test_failed_sign_ins_per_address_are_throttled_across_emails(accounts):
    accounts.create_account("victim@example.com", PASSWORD)
    for index in range(5):  # spraying guesses at many accounts from one address
        accounts.verify_login(f"user{index}@example.com", "guess-guess", "203.0.113.9")
    assert accounts.verify_login("victim@example.com", PASSWORD, "203.0.113.9").throttled
    assert accounts.verify_login("victim@example.com", PASSWORD, "198.51.100.1").account is not None


@pytest.mark.parametrize("spread", ["one address", "many addresses"])
def test_parallel_failed_sign_ins_never_exceed_the_limit(store_url, clock, spread):
    """20 simultaneous wrong passwords: exactly the limit (5 per email, or 5 per address) are checked, the rest are
    refused unchecked, and then even the right password is refused."""
    accounts = AccountStore(
        store_url,
        clock=clock,
        hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1),
        policy=LoginPolicy(max_failures_per_email=5, max_failures_per_ip=5),
    )
    accounts.create_account("a@example.com", PASSWORD)
    start = threading.Barrier(20)

    def attempt(index: int):
        email, address = (
            ("a@example.com", f"10.0.0.{index}")
            if spread == "many addresses"
            else (f"user{index}@example.com", "203.0.113.9")
        )
        start.wait()
        return accounts.verify_login(email, "wrong password", address)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert sum(not result.throttled for result in results) == 5
    assert all(result.account is None for result in results)
    email, address = ("a@example.com", "10.0.1.1") if spread == "many addresses" else ("a@example.com", "203.0.113.9")
    assert accounts.verify_login(email, PASSWORD, address).throttled
    accounts.close()


def test_sessions_expire_and_end(accounts, clock):
    account = accounts.create_account("a@example.com", PASSWORD)
    token = accounts.create_session(account, timedelta(hours=8))
    assert accounts.account_for_session(token) == account
    with accounts._sessions() as session:  # only the token's hash is stored
        assert session.scalars(select(WebSession.token_hash)).one() != token.encode()
    assert accounts.account_for_session(token[:-1] + "x") is None
    clock.advance(timedelta(hours=8))
    assert accounts.account_for_session(token) is None
    second = accounts.create_session(account, timedelta(hours=8))
    accounts.end_session(second)
    assert accounts.account_for_session(second) is None


def test_new_password_signs_out_everywhere(accounts):
    account = accounts.create_account("a@example.com", PASSWORD)
    token = accounts.create_session(account, timedelta(hours=1))
    assert accounts.set_password("a@example.com", "another long password")
    assert accounts.account_for_session(token) is None
    assert accounts.verify_login("a@example.com", PASSWORD, "ip").account is None
    assert accounts.verify_login("a@example.com", "another long password", "ip").account is not None
    assert not accounts.set_password("nobody@example.com", "another long password")


def test_csrf_token_is_bound_to_the_session():
    first, second = csrf_token("session-one"), csrf_token("session-two")
    assert first == csrf_token("session-one") and first != second
    assert "session-one" not in first
    assert csrf_matches(first, first)
    assert not csrf_matches(first, second)
    assert not csrf_matches(first, None) and not csrf_matches(first, "") and not csrf_matches(None, first)
    assert not csrf_matches(first, "é" * 64)


def test_users_cli_creates_an_account_with_a_generated_password(capsys):
    assert main(["users", "create", "--email", "ops@example.com", "--owner", "ops"]) == 0
    out = capsys.readouterr()
    password = out.out.strip()
    assert len(password) >= 20 and "shown only this once" in out.err
    accounts = AccountStore(database_url(), hasher=FAST_HASHER)
    signed_in = accounts.verify_login("ops@example.com", password, "cli").account
    assert signed_in is not None and signed_in.owner == "ops"
    assert main(["users", "create", "--email", "ops@example.com"]) == 2


def test_users_cli_reads_a_password_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a password from stdin\n"))
    assert main(["users", "create", "--email", "dev@example.com", "--password-stdin"]) == 0
    assert capsys.readouterr().out == ""  # nothing generated, nothing printed
    monkeypatch.setattr("sys.stdin", io.StringIO("the replacement password\n"))
    assert main(["users", "reset-password", "--email", "dev@example.com", "--password-stdin"]) == 0
    accounts = AccountStore(database_url(), hasher=FAST_HASHER)
    assert accounts.verify_login("dev@example.com", "the replacement password", "cli").account is not None
    assert main(["users", "reset-password", "--email", "ghost@example.com"]) == 1


def test_make_serve_creates_the_local_account_once():
    from softskills.cli.serve import LOCAL_EMAIL, LOCAL_OWNER, ensure_local_account

    accounts = AccountStore(database_url(), hasher=FAST_HASHER)
    password = ensure_local_account(accounts)
    assert password is not None and ensure_local_account(accounts) is None
    signed_in = AccountStore(database_url(), hasher=FAST_HASHER).verify_login(LOCAL_EMAIL, password, "local")
    assert signed_in.account.owner == LOCAL_OWNER
