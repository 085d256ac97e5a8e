"""Dashboard accounts: email + password (Argon2id via argon2-cffi), server-side sessions, login throttling, CSRF.

Tables live in the key store's database (same SQLAlchemy metadata), so one `DATABASE_URL` serves both. Each
account has an `owner`, the name its API keys are filed under (`auth.store.KeyStore`), so the dashboard and the
`softskills keys --owner` CLI see the same keys. Session cookies carry a random token; the database keeps only its
SHA-256, so a leaked database cannot be replayed as sessions. Failed sign-ins are counted in the database, so
the limit holds across ingress replicas.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from softskills.db.base import MAX_OWNER_CHARS, Base, Clock, UTCDateTime, utc_now
from softskills.db.engine import connect
from softskills.db.locks import hold_lock

MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # Argon2 takes any length; this only bounds the work one request can ask for
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_LOGIN_LOCK = "login-throttle"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_CHARS), unique=True)
    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(MAX_EMAIL_CHARS + 8), index=True)  # "email:..." or "ip:..."
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    owner: str


@dataclass(frozen=True)
class LoginPolicy:
    max_failures_per_email: int = 5
    max_failures_per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    retry_after_s: int | None = None  # set when the attempt was refused by the rate limit, unchecked

    @property
    def throttled(self) -> bool:
        return self.retry_after_s is not None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the HttpOnly session token, which a cross-site page cannot read.

    One-way, so the token in a page does not reveal the session cookie."""
    return hashlib.sha256(b"softskills-csrf:" + session_token.encode("ascii")).hexdigest()


def csrf_matches(expected: str | None, candidate: str | None) -> bool:
    if not expected or not candidate or not candidate.isascii():
        return False
    return hmac.compare_digest(expected, candidate)


class AccountStore:
    """Accounts, sessions and sign-in throttling. Thread-safe: every call uses its own database session."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock = utc_now,
        hasher: PasswordHasher | None = None,
        policy: LoginPolicy = LoginPolicy(),
    ) -> None:
        from sqlalchemy.orm import sessionmaker

        self._engine = connect(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._clock = clock
        self._hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106 low-memory parameters
        self._policy = policy
        # Unknown emails are checked against this, so response time does not reveal which emails have accounts.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def close(self) -> None:
        self._engine.dispose()

    def create_account(self, email: str, password: str, owner: str | None = None) -> Account:
        email = normalize_email(email)
        if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
            raise ValueError("email must look like name@example.com")
        owner = (owner or email).strip()
        if not owner or len(owner) > MAX_OWNER_CHARS:
            raise ValueError(f"owner must be 1 to {MAX_OWNER_CHARS} characters")
        row = User(email=email, owner=owner, password_hash=self._hash(password), created_at=self._clock())
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                return Account(row.id, row.email, row.owner)
        except IntegrityError:
            raise ValueError(f"an account with email {email!r} or owner {owner!r} already exists") from None

    def find_account(self, email: str) -> Account | None:
        with self._sessions() as session:
            row = session.scalars(select(User).where(User.email == normalize_email(email))).one_or_none()
            return None if row is None else Account(row.id, row.email, row.owner)

    def set_password(self, email: str, password: str) -> bool:
        """Replace the password and end the account's sessions; False if there is no such account."""
        password_hash = self._hash(password)
        with self._sessions.begin() as session:
            user_id = session.scalars(select(User.id).where(User.email == normalize_email(email))).one_or_none()
            if user_id is None:
                return False
            session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            session.execute(delete(WebSession).where(WebSession.user_id == user_id))
            return True

    def verify_login(self, email: str, password: str, client_ip: str) -> LoginResult:
        """Check a sign-in. Refused unchecked while the email or the address is at its failure limit.

        The attempt is recorded as a failure before the password is checked, in the same locked transaction as the
        count, so parallel attempts cannot all pass the check before any of them has failed; a success then takes
        its record back (and clears the email's failures)."""
        email = normalize_email(email)[:MAX_EMAIL_CHARS]
        subjects = (f"email:{email}", f"ip:{client_ip[:MAX_EMAIL_CHARS]}")
        attempt = self._admit_attempt(subjects, self._clock())
        if isinstance(attempt, int):
            return LoginResult(None, retry_after_s=attempt)
        with self._sessions() as session:
            row = session.scalars(select(User).where(User.email == email)).one_or_none()
        stored_hash = row.password_hash if row is not None else self._decoy_hash
        if row is None or not self._password_matches(stored_hash, password[:MAX_PASSWORD_CHARS]):
            return LoginResult(None)
        if self._hasher.check_needs_rehash(stored_hash):  # parameters were raised since this hash was made
            with self._sessions.begin() as session:
                session.execute(update(User).where(User.id == row.id).values(password_hash=self._hash(password)))
        with self._sessions.begin() as session:
            session.execute(
                delete(LoginFailure).where((LoginFailure.subject == subjects[0]) | LoginFailure.id.in_(attempt))
            )
        return LoginResult(Account(row.id, row.email, row.owner))

    def create_session(self, account: Account, ttl: timedelta) -> str:
        """A new session token for the cookie; only its hash is stored."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.expires_at <= now))
            session.add(
                WebSession(token_hash=_token_hash(token), user_id=account.id, created_at=now, expires_at=now + ttl)
            )
        return token

    def account_for_session(self, token: str | None) -> Account | None:
        if not token or len(token) > 128 or not token.isascii():
            return None
        with self._sessions() as session:
            row = session.execute(
                select(User.id, User.email, User.owner)
                .join(WebSession, WebSession.user_id == User.id)
                .where(WebSession.token_hash == _token_hash(token), WebSession.expires_at > self._clock())
            ).one_or_none()
            return None if row is None else Account(row.id, row.email, row.owner)

    def end_session(self, token: str | None) -> None:
        if token and token.isascii():
            with self._sessions.begin() as session:
                session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))

    def _hash(self, password: str) -> str:
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise ValueError(f"password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
        return self._hasher.hash(password)

    def _password_matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _admit_attempt(self, subjects: tuple[str, str], now: datetime) -> tuple[int, ...] | int:
        """Seconds to wait while a subject is at its limit; else the ids of this attempt's failure records, written
        in the same transaction as the count, under a lock every replica takes (db.locks.hold_lock)."""
        since = now - self._policy.window
        limits = (self._policy.max_failures_per_email, self._policy.max_failures_per_ip)
        with self._sessions.begin() as session:
            hold_lock(session, _LOGIN_LOCK)
            for subject, limit in zip(subjects, limits):
                count, oldest = session.execute(
                    select(func.count(LoginFailure.id), func.min(LoginFailure.failed_at)).where(
                        LoginFailure.subject == subject, LoginFailure.failed_at > since
                    )
                ).one()
                if count >= limit:
                    oldest = UTCDateTime().process_result_value(oldest, self._engine.dialect)
                    return max(1, int((oldest + self._policy.window - now).total_seconds()) + 1)
            session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= since))
            records = [LoginFailure(subject=subject, failed_at=now) for subject in subjects]
            session.add_all(records)
            session.flush()
            return tuple(record.id for record in records)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()
