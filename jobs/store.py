"""Jobs, their webhook attempts and the owners' webhook signing secrets, in the key store's database (SQLite or
PostgreSQL, one engine per process through `db.engine.connect`; the tables come from migration 0003).

The broker carries only a job's id. What a job is, whether it runs, and what became of it are rows here, changed by
conditional UPDATEs, so that every replica agrees without a lock: a delivery *claims* a job (queued, or running with
a lapsed lease) and gets an attempt number; the lease is renewed by heartbeats carrying that number, and only the
attempt holding it may finish the job. A duplicate delivery, or a worker that lost its lease, changes nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from softskills.db.base import MAX_OWNER_CHARS, Base, UTCDateTime, utc_now
from softskills.db.engine import connect
from softskills.jobs.errors import JobAlreadyFinished, JobNotFound

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
ANALYSES = ("analyze-video", "full-analysis")
JOB_ID_PREFIX = "job_"
MAX_URL_CHARS = 2048
MAX_IDEMPOTENCY_KEY_CHARS = 255
MAX_WEBHOOK_ERROR_CHARS = 300
INTERRUPTED_ATTEMPT = "The attempt was interrupted (its sender stopped before recording an answer)."


def new_job_id() -> str:
    """`job_` + 128 random bits, URL-safe."""
    return JOB_ID_PREFIX + secrets.token_urlsafe(16)


def is_job_id(text: str) -> bool:
    body = text[len(JOB_ID_PREFIX) :]
    return (
        text.startswith(JOB_ID_PREFIX)
        and len(body) == 22
        and body.isascii()
        and all(c.isalnum() or c in "-_" for c in body)
    )


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("owner", "idempotency_key", name="uq_jobs_owner_idempotency_key"),
        Index("ix_jobs_owner_created_at", "owner", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS))
    source: Mapped[str] = mapped_column(String(16))  # "api" (a job) or "dashboard" (a synchronous upload's report)
    analysis: Mapped[str] = mapped_column(String(16))  # "analyze-video" | "full-analysis"
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)  # retention
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # analyses started; the current one's fencing number
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    request: Mapped[str] = mapped_column(Text)  # JSON: the validated fields (api/routes/jobs.py)
    base_url: Mapped[str] = mapped_column(String(MAX_URL_CHARS))  # of videoUrl when public_base_url is unset
    upload_object: Mapped[str | None] = mapped_column(String(512), nullable=True)  # the video store's object id
    upload_reservation: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # its quota ledger row
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the endpoint's answer
    overall_score: Mapped[float | None] = mapped_column(Float, nullable=True)  # from the result, for the history
    category_scores: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, likewise
    error_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(MAX_IDEMPOTENCY_KEY_CHARS), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(MAX_URL_CHARS), nullable=True)
    webhook_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # pending|sending|delivered|failed
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)  # delivery attempts claimed (fencing number)
    webhook_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # sending: since when
    webhook_enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(MAX_WEBHOOK_ERROR_CHARS), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)


class WebhookSecret(Base):
    """One signing secret per owner, encrypted under a key derived from the pepper (jobs/webhooks.py); the one it
    replaced stays usable until `previous_valid_until`."""

    __tablename__ = "webhook_secrets"

    owner: Mapped[str] = mapped_column(String(MAX_OWNER_CHARS), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary(128))
    pepper_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    previous_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary(128), nullable=True)
    previous_pepper_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    started_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class JobRecord:
    id: str
    owner: str
    source: str
    analysis: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    attempts: int
    request: dict
    base_url: str
    upload_object: str | None
    upload_reservation: int | None
    overall_score: float | None
    category_scores: dict | None
    error_status: int | None
    error_detail: str | None
    webhook_url: str | None
    webhook_state: str | None
    webhook_attempts: int
    webhook_next_at: datetime | None
    request_hash: str | None
    result: dict | None = None  # loaded only where asked for
    webhook_history: tuple[AttemptRecord, ...] = ()

    @classmethod
    def from_row(cls, row: Job, result: bool = False, history: tuple[AttemptRecord, ...] = ()) -> JobRecord:
        return cls(
            id=row.id,
            owner=row.owner,
            source=row.source,
            analysis=row.analysis,
            status=row.status,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
            attempts=row.attempts,
            request=json.loads(row.request),
            base_url=row.base_url,
            upload_object=row.upload_object,
            upload_reservation=row.upload_reservation,
            overall_score=row.overall_score,
            category_scores=json.loads(row.category_scores) if row.category_scores else None,
            error_status=row.error_status,
            error_detail=row.error_detail,
            webhook_url=row.webhook_url,
            webhook_state=row.webhook_state,
            webhook_attempts=row.webhook_attempts,
            webhook_next_at=row.webhook_next_at,
            request_hash=row.request_hash,
            result=json.loads(row.result) if result and row.result else None,
            webhook_history=history,
        )


@dataclass(frozen=True)
class NewJob:
    """What a submission stores: validated, with its upload already in the video store."""

    owner: str
    analysis: str
    request: dict
    base_url: str
    upload_object: str | None
    upload_reservation: int | None
    webhook_url: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None


@dataclass(frozen=True)
class Claim:
    job: JobRecord
    attempt: int  # the fencing number: heartbeats and the finish must carry it


@dataclass(frozen=True)
class Summary:
    """Scores of a finished report, for the history chart: overall 0-100, categories 0-10 (None: not measured)."""

    overall_score: float | None
    category_scores: dict[str, float | None] | None


@dataclass(frozen=True)
class Result:
    """A finished analysis as it is answered and kept: the endpoint's JSON body (built at the HTTP edge from the
    analysis records) and the scores a report's history plots, as the body states them."""

    body: dict
    summary: Summary


class DuplicateIdempotencyKey(Exception):
    """Another request with this key was stored first."""


class JobStore:
    """Every read and write of jobs. Thread-safe: each call has its own session."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = connect(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.clock = clock

    # Submissions and the API's reads

    def find_by_idempotency_key(self, owner: str, key: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.scalars(
                select(Job).where(
                    Job.owner == owner, Job.idempotency_key == key, Job.idempotency_expires_at > self.clock()
                )
            ).one_or_none()
            return None if row is None else JobRecord.from_row(row)

    def create(self, new: NewJob, idempotency_ttl: timedelta) -> JobRecord:
        """Stores a queued job; DuplicateIdempotencyKey when another job holds its (unexpired) key."""
        now = self.clock()
        row = Job(
            id=new_job_id(),
            owner=new.owner,
            source="api",
            analysis=new.analysis,
            status="queued",
            created_at=now,
            attempts=0,
            request=json.dumps(new.request),
            base_url=new.base_url,
            upload_object=new.upload_object,
            upload_reservation=new.upload_reservation,
            webhook_url=new.webhook_url,
            webhook_attempts=0,
            enqueued_at=now,
            idempotency_key=new.idempotency_key,
            request_hash=new.request_hash,
            idempotency_expires_at=now + idempotency_ttl if new.idempotency_key else None,
        )
        try:
            with self._sessions.begin() as session:
                if new.idempotency_key is not None:  # an expired key is free again
                    session.execute(
                        update(Job)
                        .where(
                            Job.owner == new.owner,
                            Job.idempotency_key == new.idempotency_key,
                            Job.idempotency_expires_at <= now,
                        )
                        .values(idempotency_key=None)
                    )
                session.add(row)
                session.flush()
                return JobRecord.from_row(row)
        except IntegrityError:
            raise DuplicateIdempotencyKey() from None

    def delete_unqueued(self, job_id: str) -> None:
        """Removes a job whose message could not be enqueued (its submission answered 503)."""
        with self._sessions.begin() as session:
            session.execute(delete(Job).where(Job.id == job_id))

    def active_count(self, owner: str) -> int:
        with self._sessions() as session:
            return session.scalar(
                select(func.count()).select_from(Job).where(Job.owner == owner, Job.status.in_(ACTIVE))
            )

    def get(self, owner: str, job_id: str) -> JobRecord:
        """The owner's job with its result and webhook attempts; JobNotFound for anyone else's."""
        with self._sessions() as session:
            row = session.scalars(select(Job).where(Job.id == job_id, Job.owner == owner)).one_or_none()
            if row is None:
                raise JobNotFound()
            attempts = session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.job_id == job_id)
                .order_by(WebhookAttempt.attempt, WebhookAttempt.id)
            )
            history = tuple(
                AttemptRecord(a.attempt, a.started_at, a.status_code, a.error, a.duration_ms) for a in attempts
            )
            return JobRecord.from_row(row, result=True, history=history)

    def list(
        self, owner: str, limit: int, before: str | None = None, sources: tuple[str, ...] = ("api",)
    ) -> tuple[list[JobRecord], bool]:
        """The owner's jobs, newest first, after the job `before` (a cursor); and whether more follow."""
        query = select(Job).where(Job.owner == owner, Job.source.in_(sources))
        with self._sessions() as session:
            if before is not None:
                cursor = session.scalars(select(Job).where(Job.id == before, Job.owner == owner)).one_or_none()
                if cursor is None:
                    raise JobNotFound()
                query = query.where(
                    or_(
                        Job.created_at < cursor.created_at,
                        and_(Job.created_at == cursor.created_at, Job.id < cursor.id),
                    )
                )
            rows = list(session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
            return [JobRecord.from_row(row) for row in rows[:limit]], len(rows) > limit

    def cancel(self, owner: str, job_id: str, retention: timedelta) -> JobRecord:
        """Cancels a queued or running job (a running one stops at its next heartbeat); JobAlreadyFinished else."""
        now = self.clock()
        with self._sessions.begin() as session:
            changed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.owner == owner, Job.status.in_(ACTIVE))
                .values(status="cancelled", finished_at=now, expires_at=now + retention)
            )
            row = session.scalars(select(Job).where(Job.id == job_id, Job.owner == owner)).one_or_none()
            if row is None:
                raise JobNotFound()
            if not changed.rowcount:
                raise JobAlreadyFinished(row.status)
            return JobRecord.from_row(row)

    # The consumer's side

    def claim(self, job_id: str, lease_timeout: timedelta) -> Claim | None:
        """Starts an attempt on a queued job, or takes over a running one whose lease lapsed; None when the job is
        finished, cancelled, gone or held by a live worker (a duplicate delivery)."""
        now = self.clock()
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    or_(
                        Job.status == "queued",
                        and_(
                            Job.status == "running",
                            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < now - lease_timeout),
                        ),
                    ),
                )
                .values(
                    status="running",
                    attempts=Job.attempts + 1,
                    heartbeat_at=now,
                    started_at=func.coalesce(Job.started_at, now),
                )
            )
            if not claimed.rowcount:
                return None
            row = session.scalars(select(Job).where(Job.id == job_id)).one()
            return Claim(JobRecord.from_row(row), row.attempts)

    def heartbeat(self, job_id: str, attempt: int) -> bool:
        """Renews the lease; False when this attempt no longer holds the job (cancelled, or taken over)."""
        with self._sessions.begin() as session:
            return bool(
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
                    .values(heartbeat_at=self.clock())
                ).rowcount
            )

    def succeed(self, job_id: str, attempt: int, result: dict, summary: Summary, retention: timedelta) -> bool:
        now = self.clock()
        with self._sessions.begin() as session:
            return bool(
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
                    .values(
                        status="succeeded",
                        finished_at=now,
                        expires_at=now + retention,
                        result=json.dumps(result),
                        overall_score=summary.overall_score,
                        error_status=None,
                        error_detail=None,
                        category_scores=None
                        if summary.category_scores is None
                        else json.dumps(summary.category_scores),
                        webhook_state=_first_webhook_state(),
                        webhook_next_at=now,
                    )
                ).rowcount
            )

    def fail(self, job_id: str, attempt: int, status: int, detail: str, retention: timedelta) -> bool:
        now = self.clock()
        with self._sessions.begin() as session:
            return bool(
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
                    .values(
                        status="failed",
                        finished_at=now,
                        expires_at=now + retention,
                        error_status=status,
                        error_detail=detail,
                        webhook_state=_first_webhook_state(),
                        webhook_next_at=now,
                    )
                ).rowcount
            )

    def release_for_retry(self, job_id: str, attempt: int, status: int, detail: str) -> bool:
        """Queues the job again after a failed attempt, keeping the error until an attempt succeeds; the task
        queue redelivers it after its back-off."""
        now = self.clock()
        with self._sessions.begin() as session:
            return bool(
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
                    .values(
                        status="queued", heartbeat_at=None, enqueued_at=now, error_status=status, error_detail=detail
                    )
                ).rowcount
            )

    def take_upload(self, job_id: str) -> tuple[str, int | None] | None:
        """Detaches a finished job's upload (object id, quota reservation) so that exactly one caller deletes it."""
        with self._sessions.begin() as session:
            row = session.execute(
                select(Job.upload_object, Job.upload_reservation).where(
                    Job.id == job_id, Job.status.in_(FINISHED), Job.upload_object.is_not(None)
                )
            ).one_or_none()
            if row is None:
                return None
            taken = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.upload_object == row.upload_object)
                .values(upload_object=None, upload_reservation=None)
            )
            return (row.upload_object, row.upload_reservation) if taken.rowcount else None

    # The sweep (each consumer replica, every sweep_interval_s)

    def jobs_to_enqueue(self, lease_timeout: timedelta, requeue_after: timedelta) -> list[str]:
        """Jobs that may have no message left: running with a lapsed lease (their worker died), or queued with no
        enqueue for `requeue_after` (a broker that lost it). Each is marked enqueued now, so that one sweeper, and
        one sweep, enqueues it; a duplicate message is dropped by `claim`."""
        now = self.clock()
        lapsed = and_(
            Job.status == "running",
            Job.heartbeat_at < now - lease_timeout,
            or_(Job.enqueued_at.is_(None), Job.enqueued_at <= Job.heartbeat_at, Job.enqueued_at < now - requeue_after),
        )
        forgotten = and_(Job.status == "queued", Job.enqueued_at < now - requeue_after)
        taken = []
        with self._sessions() as session:
            candidates = list(session.scalars(select(Job.id).where(or_(lapsed, forgotten)).limit(100)))
        for job_id in candidates:
            with self._sessions.begin() as session:
                if session.execute(
                    update(Job).where(Job.id == job_id, or_(lapsed, forgotten)).values(enqueued_at=now)
                ).rowcount:
                    taken.append(job_id)
        return taken

    def finished_with_uploads(self) -> list[str]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Job.id).where(Job.status.in_(FINISHED), Job.upload_object.is_not(None)).limit(100)
                )
            )

    def expired_uploads(self, upload_ttl: timedelta) -> list[str]:
        """Queued jobs whose upload has outlived its lifetime (the store deletes it then)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Job.id)
                    .where(Job.status == "queued", Job.source == "api", Job.created_at < self.clock() - upload_ttl)
                    .limit(100)
                )
            )

    def expire_queued(self, job_id: str, detail: str, retention: timedelta) -> JobRecord | None:
        """Fails a job still queued when its upload's lifetime ended; the failed job, or None if it had moved on."""
        now = self.clock()
        with self._sessions.begin() as session:
            if not session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(
                    status="failed",
                    finished_at=now,
                    expires_at=now + retention,
                    error_status=500,
                    error_detail=detail,
                    webhook_state=_first_webhook_state(),
                    webhook_next_at=now,
                )
            ).rowcount:
                return None
            return JobRecord.from_row(session.scalars(select(Job).where(Job.id == job_id)).one())

    def purge_expired(self) -> int:
        """Deletes finished jobs past their retention, with their results and webhook attempts."""
        now = self.clock()
        with self._sessions.begin() as session:
            expired = select(Job.id).where(Job.status.in_(FINISHED), Job.expires_at <= now, Job.upload_object.is_(None))
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.job_id.in_(expired)))
            return session.execute(delete(Job).where(Job.id.in_(expired))).rowcount

    # Webhook deliveries

    def webhook_due(self, job_id: str, attempt: int, lease: timedelta, max_attempts: int) -> JobRecord | None:
        """Claims delivery attempt `attempt` of a finished job's webhook: pending with `attempt - 1` made, or sending
        attempt `attempt - 1` past its lease (its sender died or lost the database), which is then recorded as a
        failed attempt. The claim counts the attempt and holds it for `lease`, so one sender at a time makes each
        attempt and a webhook fails for good after `max_attempts`, whatever became of its senders. None for a
        duplicate, a claim still held, a delivered webhook, or one that just failed for good."""
        now = self.clock()
        claimable = and_(
            Job.id == job_id,
            Job.webhook_attempts == attempt - 1,
            or_(
                Job.webhook_state == "pending", and_(Job.webhook_state == "sending", Job.webhook_next_at < now - lease)
            ),
        )
        with self._sessions.begin() as session:
            row = session.scalars(select(Job).where(claimable)).one_or_none()
            if row is None:
                return None
            interrupted_at = row.webhook_next_at if row.webhook_state == "sending" else None
            give_up = attempt > max_attempts
            if not session.execute(
                update(Job)
                .where(claimable, Job.webhook_state == row.webhook_state)
                .values(
                    webhook_attempts=attempt - 1 if give_up else attempt,
                    webhook_state="failed" if give_up else "sending",
                    webhook_next_at=None if give_up else now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount:
                return None  # another sender claimed it meanwhile
            if interrupted_at is not None:
                session.add(
                    WebhookAttempt(
                        job_id=job_id,
                        attempt=attempt - 1,
                        started_at=interrupted_at,
                        status_code=None,
                        error=INTERRUPTED_ATTEMPT,
                        duration_ms=int((now - interrupted_at).total_seconds() * 1000),
                    )
                )
            if give_up:
                return None
            return JobRecord.from_row(
                session.scalars(select(Job).where(Job.id == job_id).execution_options(populate_existing=True)).one()
            )

    def record_webhook_attempt(
        self, job_id: str, attempt: AttemptRecord, next_at: datetime | None, delivered: bool
    ) -> bool:
        """Keeps the attempt and moves the webhook on: delivered, pending until `next_at`, or failed for good. False
        (nothing kept) when the attempt's claim was taken over meanwhile: the next attempt counted it as failed."""
        state = "delivered" if delivered else "pending" if next_at is not None else "failed"
        with self._sessions.begin() as session:
            if not session.execute(
                update(Job)
                .where(Job.id == job_id, Job.webhook_attempts == attempt.attempt, Job.webhook_state == "sending")
                .values(
                    webhook_state=state,
                    webhook_next_at=next_at,
                    webhook_enqueued_at=self.clock() if next_at is not None else None,
                )
            ).rowcount:
                return False
            session.add(
                WebhookAttempt(
                    job_id=job_id,
                    attempt=attempt.attempt,
                    started_at=attempt.started_at,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            return True

    def webhooks_to_enqueue(self, lease_timeout: timedelta) -> list[tuple[str, int]]:
        """(job, next attempt) of deliveries whose message may be lost: pending past their time by a lease, or
        sending for longer than a lease (the claim in `webhook_due`, with the attempt's own lease, decides whether
        its sender is gone). Marked enqueued now, so one sweeper enqueues each, once per lease."""
        now = self.clock()
        overdue = and_(
            Job.webhook_url.is_not(None),
            or_(
                and_(Job.webhook_state == "pending", Job.webhook_next_at < now - lease_timeout),
                and_(Job.webhook_state == "sending", Job.webhook_next_at < now - lease_timeout),
            ),
            or_(Job.webhook_enqueued_at.is_(None), Job.webhook_enqueued_at < now - lease_timeout),
        )
        taken = []
        with self._sessions() as session:
            candidates = list(session.execute(select(Job.id, Job.webhook_attempts).where(overdue).limit(100)))
        for job_id, made in candidates:
            with self._sessions.begin() as session:
                if session.execute(
                    update(Job).where(Job.id == job_id, overdue).values(webhook_enqueued_at=now)
                ).rowcount:
                    taken.append((job_id, made + 1))
        return taken

    def mark_webhook_enqueued(self, job_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(update(Job).where(Job.id == job_id).values(webhook_enqueued_at=self.clock()))

    # The dashboard's history

    def record_report(
        self,
        owner: str,
        analysis: str,
        result: dict | None,
        summary: Summary | None,
        error: tuple[int, str] | None,
        retention: timedelta,
        request: dict,
    ) -> JobRecord:
        """A synchronous dashboard upload's answer, kept as a finished report beside the jobs."""
        now = self.clock()
        row = Job(
            id=new_job_id(),
            owner=owner,
            source="dashboard",
            analysis=analysis,
            status="succeeded" if error is None else "failed",
            created_at=now,
            started_at=now,
            finished_at=now,
            expires_at=now + retention,
            attempts=1,
            request=json.dumps(request),
            base_url="",
            result=None if result is None else json.dumps(result),
            overall_score=summary.overall_score if summary else None,
            category_scores=json.dumps(summary.category_scores) if summary and summary.category_scores else None,
            error_status=error[0] if error else None,
            error_detail=error[1] if error else None,
            webhook_attempts=0,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return JobRecord.from_row(row)

    def history(self, owner: str, limit: int) -> list[JobRecord]:
        """The owner's jobs and dashboard reports, newest first, without results."""
        return self.list(owner, limit, sources=("api", "dashboard"))[0]


def _first_webhook_state():
    """A finished job's webhook becomes pending: a SQL expression, so a job without a URL keeps none."""
    return case((Job.webhook_url.is_not(None), "pending"), else_=None)
