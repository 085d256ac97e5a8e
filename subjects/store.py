"""The sessions of subjects, in the key store's database (SQLite or PostgreSQL, the process's one engine; the tables
come from migration 0004). A session is what one analysed take measured and scored (never the video; its transcript
only when the owner's setting keeps transcripts), kept under (owner, subject): two owners' subjects never meet, and
another owner's subject reads exactly like one that does not exist.

Bounds: an owner keeps sessions of at most `max_subjects` subjects (a new one beyond that is refused, checked under
a lock every replica takes), a subject keeps its latest `max_sessions` sessions (storing one more erases the oldest),
and every session expires `retention` after it was stored (erased by the ingress's periodic purge).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Index, String, Text, and_, delete, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from softskills.db.base import MAX_OWNER_CHARS, Base, UTCDateTime, utc_now
from softskills.db.engine import connect
from softskills.db.locks import hold_lock
from softskills.models.progress import Session, SessionRecord
from softskills.subjects.errors import InvalidSubject, SubjectNotFound, TooManySubjects

MAX_SUBJECT_CHARS = 64
SUBJECT_PATTERN = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_SUBJECT_CHARS}}}")
SESSION_ID_PREFIX = "ses_"
SOURCES = ("api", "job", "dashboard")
PURGE_BATCH = 500


def checked_subject(text: str) -> str:
    """A subject id as a client may choose it: 1-64 characters of [A-Za-z0-9._-] (InvalidSubject otherwise)."""
    if not SUBJECT_PATTERN.fullmatch(text):
        raise InvalidSubject(MAX_SUBJECT_CHARS)
    return text


SESSION_ID_PATTERN = re.compile(rf"{SESSION_ID_PREFIX}[A-Za-z0-9_-]{{16}}")


def is_session_id(text: str) -> bool:
    return SESSION_ID_PATTERN.fullmatch(text) is not None


class SubjectSession(Base):
    __tablename__ = "subject_sessions"
    __table_args__ = (Index("ix_subject_sessions_owner_subject_created_at", "owner", "subject", "created_at"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # ses_ + 96 random bits: a cursor, not a count
    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(16))  # api | job | dashboard
    params_version: Mapped[str] = mapped_column(String(16))  # the interpretation parameters that scored it
    metrics: Mapped[str] = mapped_column(Text)  # JSON {metric: value}: every measured metric
    scores: Mapped[str] = mapped_column(Text)  # JSON {category or "overall": score}, as answered
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)  # only when the owner keeps transcripts


class SubjectSettings(Base):
    """One row per owner that changed a setting; no row means the defaults."""

    __tablename__ = "subject_settings"

    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS), primary_key=True)
    keep_transcripts: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class StoredSession:
    id: str
    subject: str
    at: datetime
    source: str
    params_version: str
    metrics: dict[str, float]
    scores: dict[str, float]
    transcript: str | None

    @classmethod
    def from_row(cls, row: SubjectSession) -> StoredSession:
        return cls(
            row.id,
            row.subject,
            row.created_at,
            row.source,
            row.params_version,
            json.loads(row.metrics),
            json.loads(row.scores),
            row.transcript,
        )

    def record(self) -> SessionRecord:
        return SessionRecord(metrics=self.metrics, scores=self.scores, at=self.at)


@dataclass(frozen=True)
class SubjectSummary:
    subject: str
    sessions: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class SubjectLimits:
    max_subjects: int  # per owner
    max_sessions: int  # per subject: the latest are kept
    retention: timedelta  # a session is erased this long after it was stored


class SubjectStore:
    def __init__(self, url: str, clock=utc_now) -> None:
        self.clock = clock
        self._sessions = sessionmaker(connect(url), expire_on_commit=False)

    def earlier(self, owner: str, subject: str, limit: int) -> list[SessionRecord]:
        """The subject's latest `limit` stored sessions, oldest first: what progress is judged against."""
        with self._sessions() as session:
            rows = list(
                session.scalars(
                    self._of(owner, subject)
                    .order_by(SubjectSession.created_at.desc(), SubjectSession.id.desc())
                    .limit(limit)
                )
            )
        return [StoredSession.from_row(row).record() for row in reversed(rows)]

    def check_room(self, owner: str, subject: str, max_subjects: int) -> None:
        """TooManySubjects when `subject` would be a new subject beyond the owner's limit: checked before the
        analysis so a refused request costs nothing (`add` checks again, under the owner's lock)."""
        with self._sessions() as session:
            self._check_room(session, owner, subject, max_subjects)

    def add(
        self,
        owner: str,
        subject: str,
        stored: Session,
        *,
        params_version: str,
        source: str,
        transcript: str | None,
        limits: SubjectLimits,
    ) -> StoredSession:
        """Stores a session; the subject's oldest beyond `limits.max_sessions` are erased in the same transaction."""
        now = self.clock()
        row = SubjectSession(
            id=SESSION_ID_PREFIX + secrets.token_urlsafe(12),
            owner=owner,
            subject=subject,
            created_at=now,
            expires_at=now + limits.retention,
            source=source,
            params_version=params_version,
            metrics=json.dumps(dict(stored.metrics)),
            scores=json.dumps(dict(stored.scores)),
            transcript=transcript,
        )
        with self._sessions.begin() as session:
            hold_lock(session, f"subjects:{owner}")
            self._check_room(session, owner, subject, limits.max_subjects)
            session.add(row)
            session.flush()
            kept = (
                self._of(owner, subject)
                .with_only_columns(SubjectSession.id)
                .order_by(SubjectSession.created_at.desc(), SubjectSession.id.desc())
                .limit(limits.max_sessions)
            )
            session.execute(
                delete(SubjectSession).where(
                    SubjectSession.owner == owner,
                    SubjectSession.subject == subject,
                    SubjectSession.id.not_in(list(session.scalars(kept))),
                )
            )
        return StoredSession.from_row(row)

    def subjects(self, owner: str, limit: int, after: str | None = None) -> tuple[list[SubjectSummary], bool]:
        """The owner's subjects in name order, after the subject `after` (a cursor); and whether more follow."""
        query = (
            select(
                SubjectSession.subject,
                func.count(),
                func.min(SubjectSession.created_at),
                func.max(SubjectSession.created_at),
            )
            .where(SubjectSession.owner == owner)
            .group_by(SubjectSession.subject)
        )
        if after is not None:
            query = query.where(SubjectSession.subject > after)
        with self._sessions() as session:
            rows = list(session.execute(query.order_by(SubjectSession.subject).limit(limit + 1)))
        summaries = [SubjectSummary(*row) for row in rows[:limit]]
        return summaries, len(rows) > limit

    def sessions(
        self, owner: str, subject: str, limit: int, before: str | None = None
    ) -> tuple[list[StoredSession], bool]:
        """The subject's sessions, newest first, after the session `before` (a cursor); and whether more follow.
        SubjectNotFound when the owner has no session of it (or the cursor is not one of its sessions)."""
        with self._sessions() as session:
            query = self._of(owner, subject)
            if before is not None:
                cursor = session.scalars(self._of(owner, subject).where(SubjectSession.id == before)).one_or_none()
                if cursor is None:
                    raise SubjectNotFound()
                query = query.where(
                    or_(
                        SubjectSession.created_at < cursor.created_at,
                        and_(SubjectSession.created_at == cursor.created_at, SubjectSession.id < cursor.id),
                    )
                )
            elif session.scalars(self._of(owner, subject).limit(1)).first() is None:
                raise SubjectNotFound()
            rows = list(
                session.scalars(
                    query.order_by(SubjectSession.created_at.desc(), SubjectSession.id.desc()).limit(limit + 1)
                )
            )
        return [StoredSession.from_row(row) for row in rows[:limit]], len(rows) > limit

    def delete(self, owner: str, subject: str) -> int:
        """Erases every stored session of the subject in one statement; SubjectNotFound when there was none."""
        with self._sessions.begin() as session:
            erased = session.execute(
                delete(SubjectSession).where(SubjectSession.owner == owner, SubjectSession.subject == subject)
            ).rowcount
        if not erased:
            raise SubjectNotFound()
        return erased

    def purge(self) -> int:
        """Erases the sessions past their retention, a batch at a time; how many."""
        erased = 0
        while True:
            with self._sessions.begin() as session:
                expired = list(
                    session.scalars(
                        select(SubjectSession.id).where(SubjectSession.expires_at <= self.clock()).limit(PURGE_BATCH)
                    )
                )
                if expired:
                    session.execute(delete(SubjectSession).where(SubjectSession.id.in_(expired)))
            erased += len(expired)
            if len(expired) < PURGE_BATCH:
                return erased

    def keeps_transcripts(self, owner: str) -> bool:
        with self._sessions() as session:
            row = session.get(SubjectSettings, owner)
        return row is not None and row.keep_transcripts

    def set_keep_transcripts(self, owner: str, keep: bool) -> None:
        with self._sessions.begin() as session:
            row = session.get(SubjectSettings, owner)
            if row is None:
                session.add(SubjectSettings(owner=owner, keep_transcripts=keep, updated_at=self.clock()))
            else:
                row.keep_transcripts, row.updated_at = keep, self.clock()

    @staticmethod
    def _of(owner: str, subject: str):
        return select(SubjectSession).where(SubjectSession.owner == owner, SubjectSession.subject == subject)

    @staticmethod
    def _check_room(session, owner: str, subject: str, max_subjects: int) -> None:
        known = select(SubjectSession.id).where(SubjectSession.owner == owner, SubjectSession.subject == subject)
        if session.scalars(known.limit(1)).first() is not None:
            return
        subjects = session.scalar(
            select(func.count(func.distinct(SubjectSession.subject))).where(SubjectSession.owner == owner)
        )
        if subjects >= max_subjects:
            raise TooManySubjects(max_subjects)
