"""One delivery of a job from the task queue: claim it, run the same pipeline as the synchronous endpoints on its
stored upload, and record what came of it. Ray-free and HTTP-free: the pipeline's stages, the answer's shape and the
error table are injected (deployments/replicas.py, the consumer's composition root, wires them in).

Outcomes: a client error (4xx: a video that does not decode, a bad field) fails the job at once; a server-side error
(5xx: a stage that failed or timed out, a model replica that died) is retried by the task queue with exponential
back-off until `max_attempts` analyses have started, then fails the job with the last error. A worker that dies
mid-analysis stops renewing its lease; a sweep then queues the job again and the next delivery takes it over.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import BinaryIO, TypeVar

from softskills.jobs.errors import JobTimedOut
from softskills.jobs.store import Claim, JobRecord, JobStore, Result
from softskills.models.pipeline import Analysis, AnalysisInput, Pipeline
from softskills.storage.factory import VideoStorage
from softskills.subjects.service import SubjectSessions

logger = logging.getLogger("ray.serve")

T = TypeVar("T")
UPLOAD_GONE_DETAIL = "The job's video is no longer stored (it waited longer than the server keeps uploads)."


@dataclass(frozen=True)
class JobRequest:
    """What a job analyses, as validated at submission and stored with the job."""

    analysis: str  # "analyze-video" | "full-analysis"
    input: AnalysisInput
    session_id: str | None = None

    def to_json(self) -> dict:
        return {"analysis": self.analysis, "input": asdict(self.input), "session_id": self.session_id}

    @classmethod
    def from_json(cls, data: dict) -> JobRequest:
        return cls(data["analysis"], AnalysisInput(**data["input"]), data.get("session_id"))


class Outcome(enum.Enum):
    SKIPPED = "skipped"  # a duplicate delivery, or the job was cancelled or finished meanwhile
    FINISHED = "finished"  # succeeded or failed for good
    RETRY = "retry"  # the attempt failed on the server's side; the task queue retries it


@dataclass(frozen=True)
class RunOptions:
    max_attempts: int
    job_timeout_s: float
    heartbeat_s: float
    lease_timeout: timedelta
    retention: timedelta


class LeaseLost(Exception):
    """This attempt no longer holds the job: it was cancelled, or another worker took it over."""


class AnalysisCancelled(Exception):
    """A call inside the analysis was cancelled without this attempt being cancelled (answered as a 500)."""


@dataclass
class JobRunner:
    store: JobStore
    pipeline: Pipeline
    videos: VideoStorage
    answer: Callable[[Analysis, JobRequest], Result]  # the endpoint's answer, as the synchronous route builds it
    classify: Callable[[Exception], tuple[int, str]]  # (status, detail) from the error table
    notify: Callable[[JobRecord], Awaitable[None]]  # a job that just finished: enqueue its webhook
    options: RunOptions
    subjects: SubjectSessions  # a job's subject: its sessions judged against, its session kept once it succeeds

    async def run(self, job_id: str) -> tuple[Outcome, str | None]:
        """Runs one delivery; (outcome, the error detail when it is RETRY)."""
        claim = await asyncio.to_thread(self.store.claim, job_id, self.options.lease_timeout)
        if claim is None:
            return Outcome.SKIPPED, None
        job, attempt = claim.job, claim.attempt
        if attempt > self.options.max_attempts:  # every earlier worker was lost mid-analysis
            return await self._fail(
                claim,
                500,
                f"The analysis was interrupted {attempt - 1} times before it could "
                "finish (its worker stopped); it was not retried again.",
            )
        request = JobRequest.from_json(job.request)
        try:
            upload = await asyncio.to_thread(self.videos.open_upload, job.upload_object)
        except FileNotFoundError:
            return await self._fail(claim, 500, UPLOAD_GONE_DETAIL)
        try:
            result, analysis = await self._leased(job.id, attempt, self._analyze(job, request, upload))
        except LeaseLost:
            logger.info("job %s attempt %d stopped: cancelled or taken over", job.id, attempt)
            await self._drop_upload(job.id)
            return Outcome.SKIPPED, None
        except Exception as exc:
            status, detail = self.classify(exc)
            if status < 500 or attempt >= self.options.max_attempts:
                return await self._fail(claim, status, detail)
            logger.info("job %s attempt %d failed (%s); the queue retries it", job.id, attempt, type(exc).__name__)
            await asyncio.to_thread(self.store.release_for_retry, job.id, attempt, status, detail)
            return Outcome.RETRY, detail
        if await asyncio.to_thread(
            self.store.succeed, job.id, attempt, result.body, result.summary, self.options.retention
        ):
            await self.subjects.keep(job.owner, request.input.subject, analysis, "job")
            await self._finished(job)
        return Outcome.FINISHED, None

    async def _analyze(self, job: JobRecord, request: JobRequest, upload: BinaryIO) -> tuple[Result, Analysis]:
        """The synchronous endpoints' pipeline and answer; full-analysis keeps a copy behind a videoUrl. A job with
        a subject is judged against the subject's sessions as they are when it runs."""

        async def keep_video():
            return await asyncio.to_thread(self.videos.save, upload, job.base_url, job.owner)

        try:
            earlier = await self.subjects.earlier(job.owner, request.input.subject)
            kept = keep_video if request.analysis == "full-analysis" else None
            analysis = await asyncio.wait_for(
                self.pipeline.analyze(upload, request.input, kept, earlier), timeout=self.options.job_timeout_s
            )
            return await asyncio.to_thread(self.answer, analysis, request), analysis
        except asyncio.TimeoutError:
            raise JobTimedOut(self.options.job_timeout_s) from None
        finally:
            upload.close()

    async def _leased(self, job_id: str, attempt: int, work: Awaitable[T]) -> T:
        """Runs `work` while renewing the lease every heartbeat_s; a heartbeat that finds the job cancelled or
        taken over cancels the work (LeaseLost). A renewal that fails (the database) is logged and tried again at
        the next beat; once the lease could lapse before that next try, the work stops too (LeaseLost): the job is
        then taken over after the lease, and never finished by two attempts."""
        task = asyncio.ensure_future(work)
        lost = False

        async def renew():
            nonlocal lost
            lease_s, renewed_at = self.options.lease_timeout.total_seconds(), time.monotonic()  # about the claim
            while not lost:
                await asyncio.sleep(self.options.heartbeat_s)
                trying_at = time.monotonic()
                try:
                    lost = not await asyncio.to_thread(self.store.heartbeat, job_id, attempt)
                    renewed_at = trying_at
                except Exception as exc:
                    logger.warning(
                        "job %s attempt %d could not renew its lease: %s",
                        job_id,
                        attempt,
                        type(exc).__name__,
                        exc_info=exc,
                    )
                    lost = time.monotonic() + self.options.heartbeat_s >= renewed_at + lease_s
                    if lost:
                        logger.error(
                            "job %s attempt %d stops: its lease, last renewed %.1f s ago, may lapse before "
                            "the next try; the job is taken over then",
                            job_id,
                            attempt,
                            time.monotonic() - renewed_at,
                        )
            task.cancel()

        beat = asyncio.ensure_future(renew())
        try:
            return await task
        except asyncio.CancelledError:
            if lost:
                raise LeaseLost() from None
            if asyncio.current_task().cancelling():  # this delivery is being stopped (the replica shuts down)
                raise
            # Something inside the analysis was cancelled: a server-side failure like any other, to retry, rather
            # than an attempt left running until its lease lapses.
            raise AnalysisCancelled() from None
        finally:
            beat.cancel()

    async def _fail(self, claim: Claim, status: int, detail: str) -> tuple[Outcome, None]:
        if await asyncio.to_thread(
            self.store.fail, claim.job.id, claim.attempt, status, detail, self.options.retention
        ):
            logger.info("job %s failed after %d attempts: %s", claim.job.id, claim.attempt, status)
            await self._finished(claim.job)
        return Outcome.FINISHED, None

    async def _finished(self, job: JobRecord) -> None:
        await self._drop_upload(job.id)
        await self.notify(job)

    async def _drop_upload(self, job_id: str) -> None:
        await asyncio.to_thread(drop_upload, self.store, self.videos, job_id)


def drop_upload(store: JobStore, videos: VideoStorage, job_id: str) -> None:
    """Deletes a finished job's upload, once, whoever gets there first (the runner, the canceller, the sweep)."""
    taken = store.take_upload(job_id)
    if taken is not None:
        try:
            videos.discard_upload(*taken)
        except Exception as exc:  # the store's purge deletes it at its expiry anyway
            logger.warning("could not delete job %s's upload: %s", job_id, type(exc).__name__)


def webhook_notifier(
    store: JobStore, enqueue_webhook: Callable[[str, int], None]
) -> Callable[[JobRecord], Awaitable[None]]:
    """A runner's `notify`: a finished job with a webhook URL gets its first delivery attempt on the webhook queue.
    An enqueue that fails is logged and left to the sweep, which enqueues the attempt once it is overdue."""

    async def notify(job: JobRecord) -> None:
        if job.webhook_url is None:
            return
        try:
            await asyncio.to_thread(enqueue_webhook, job.id, 1)
            await asyncio.to_thread(store.mark_webhook_enqueued, job.id)
        except Exception as exc:
            logger.warning("could not enqueue job %s's webhook: %s", job.id, type(exc).__name__)

    return notify
