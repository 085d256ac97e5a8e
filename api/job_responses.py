"""The job API's bodies as pydantic models (so /openapi.json documents them), built here from jobs/store.py's
records. A job's `result` is the synchronous endpoint's body, stored as it was built (api/responses.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from softskills.api.responses import FullAnalysis, VideoAnalysis
from softskills.jobs.store import JobRecord
from softskills.jobs.webhooks import SecretInfo

JOBS_PATH = "/api/v1/jobs"


class JobBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class JobErrorBody(JobBody):
    status_code: int = Field(description="The status the synchronous endpoint would have answered.")
    detail: str = Field(description='The guide-style reason, as in that answer\'s `{"detail": ...}`.')


class WebhookAttemptBody(JobBody):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came (see error).")
    error: str | None
    duration_ms: int


class JobWebhookBody(JobBody):
    url: str
    state: Literal["waiting", "pending", "sending", "delivered", "failed"] = Field(
        description="waiting: the job has not finished; pending: an attempt is due at next_attempt_at; delivered: "
        "a 2xx came back; failed: every attempt failed."
    )
    next_attempt_at: datetime | None
    attempts: list[WebhookAttemptBody]


class JobLinks(JobBody):
    self_: str = Field(alias="self", description="This job: GET it, DELETE it to cancel.")


class JobSummary(JobBody):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    analysis: Literal["analyze-video", "full-analysis"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(
        description="When the finished job and its result are deleted (jobs.retention_s after it finished)."
    )
    attempts: int = Field(description="Analyses started: more than 1 after a retry or a lost worker.")
    error: JobErrorBody | None = Field(
        description="Why it failed (also the last attempt's error while a retry is queued)."
    )
    links: JobLinks


class Job(JobSummary):
    result: Union[VideoAnalysis, FullAnalysis, None] = Field(
        description="When succeeded: the body `analyze-video` or `full-analysis` answers for the same video."
    )
    webhook: JobWebhookBody | None


class JobList(JobBody):
    jobs: list[JobSummary] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class WebhookSecretBody(JobBody):
    secret: str = Field(description="whsec_ + base64 of 32 random bytes: shown only in this answer.")
    created_at: datetime
    previous_valid_until: datetime | None = Field(
        description="The replaced secret also signs deliveries until then (a second signature)."
    )


class WebhookSecretStatus(JobBody):
    exists: bool
    created_at: datetime | None
    previous_valid_until: datetime | None


def _summary_fields(job: JobRecord) -> dict:
    error = None if job.error_status is None else JobErrorBody(status_code=job.error_status, detail=job.error_detail)
    return dict(
        id=job.id,
        status=job.status,
        analysis=job.analysis,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
        attempts=job.attempts,
        error=error,
        links=JobLinks(self_=f"{JOBS_PATH}/{job.id}"),
    )


def job_body(job: JobRecord) -> dict:
    """The whole job; its stored result goes in as stored (it was validated when it was built)."""
    webhook = None
    if job.webhook_url is not None:
        webhook = JobWebhookBody(
            url=job.webhook_url,
            state=job.webhook_state or "waiting",
            next_attempt_at=job.webhook_next_at if job.webhook_state == "pending" else None,
            attempts=[
                WebhookAttemptBody(
                    attempt=a.attempt,
                    at=a.started_at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in job.webhook_history
            ],
        )
    body = Job(**_summary_fields(job), result=None, webhook=webhook).model_dump(mode="json", by_alias=True)
    body["result"] = job.result
    return body


def job_list(jobs: list[JobRecord], more: bool) -> dict:
    return JobList(
        jobs=[JobSummary(**_summary_fields(job)) for job in jobs], next_cursor=jobs[-1].id if more and jobs else None
    ).model_dump(mode="json", by_alias=True)


def secret_body(secret: str, info: SecretInfo) -> dict:
    return WebhookSecretBody(
        secret=secret, created_at=info.created_at, previous_valid_until=info.previous_valid_until
    ).model_dump(mode="json")


def secret_status(info: SecretInfo | None) -> dict:
    return WebhookSecretStatus(
        exists=info is not None,
        created_at=info and info.created_at,
        previous_valid_until=info and info.previous_valid_until,
    ).model_dump(mode="json")
