"""The job API and the owners' webhook signing secrets: parse and bound what the client sent, authenticate with the
same API keys, receive the upload under the replica's upload limits, keep a few at a time (apart from the
synchronous analyses' slots), and shape the answers (api/job_responses.py).
The work is jobs/service.py's; every error is answered by api/errors.py's table.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from softskills.api.errors import InvalidRequest
from softskills.api.intake import Answer, Intake, respond
from softskills.api.job_responses import (
    JOBS_PATH,
    Job,
    JobList,
    WebhookSecretBody,
    WebhookSecretStatus,
    job_body,
    job_list,
    secret_body,
    secret_status,
)
from softskills.api.limits import Admission, check_declared_size
from softskills.api.openapi import JOB_ERROR_RESPONSES, JOB_LIST_PARAMETERS, JOB_PARAMETERS
from softskills.api.request_fields import parse_job_request
from softskills.config.options import JobOptions
from softskills.jobs.errors import JobNotFound, JobsOff
from softskills.jobs.runner import JobRequest
from softskills.jobs.service import JobService, Submission
from softskills.jobs.store import MAX_IDEMPOTENCY_KEY_CHARS, is_job_id
from softskills.storage.factory import VideoStorage

MAX_PAGE = 100
DEFAULT_PAGE = 20
STORAGE_OFF_DETAIL = "Jobs are off on this server: they need the video store (storage.backend local or s3)."


def jobs_off_reason(options: JobOptions, videos: VideoStorage | None) -> str | None:
    """Why the job routes answer 404 on this replica, or None when jobs are on."""
    if not options.enabled:
        return JobsOff().args[0]
    return STORAGE_OFF_DETAIL if videos is None else None


class JobRoutes:
    """One per ingress replica. A job takes exactly the synchronous endpoints' fields and its own
    (api/request_fields.py)."""

    def __init__(
        self, service: JobService | None, off_reason: str | None, intake: Intake, submissions: Admission
    ) -> None:
        """`service` is None when jobs are off, for `off_reason`; `submissions`: how many received submissions are
        kept (copied to the video store) at once, and wait."""
        self._service, self._off_reason = service, off_reason
        self._intake, self._submissions = intake, submissions

    async def respond(self, endpoint: str, work: Awaitable[Answer]) -> JSONResponse:
        return await respond(self._intake, endpoint, work)

    def _on(self) -> JobService:
        if self._service is None:
            raise JobsOff(self._off_reason)
        return self._service

    async def submit(self, request: Request) -> Answer:
        intake = self._intake
        check_declared_size(request, intake.limits.max_upload_bytes)
        service = self._on()
        owner = await intake.keys.owner(request)
        idempotency_key = _idempotency_key(request)
        self._submissions.refuse_if_full()
        # The spooled upload is deleted when the block ends; the store has its copy.
        async with intake.uploads.form(request, owner) as form:
            (video, session_id, analysis_input), analysis, webhook_url = parse_job_request(
                form, intake.limits, observable_only=intake.observable_only
            )
            async with self._submissions.slot():
                if analysis_input.mediapipe_samples is not None:  # refused now rather than when the job runs
                    from softskills.models.face.landmarks import parse_samples

                    await asyncio.to_thread(parse_samples, analysis_input.mediapipe_samples)
                submission = Submission(
                    owner,
                    video.file,
                    JobRequest(analysis, analysis_input, session_id),
                    str(request.base_url),
                    webhook_url,
                    idempotency_key,
                )
                job, replayed = await asyncio.to_thread(service.submit, submission)
        headers = {"Location": f"{JOBS_PATH}/{job.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return 202, job_body(job), headers

    async def get(self, request: Request, job_id: str) -> Answer:
        service = self._on()
        owner = await self._intake.keys.owner(request)
        if not is_job_id(job_id):
            raise JobNotFound()
        return 200, job_body(await asyncio.to_thread(service.get, owner, job_id)), {}

    async def list(self, request: Request) -> Answer:
        service = self._on()
        owner = await self._intake.keys.owner(request)
        limit, cursor = page_request(request, is_job_id)
        jobs, more = await asyncio.to_thread(service.list, owner, limit, cursor)
        return 200, job_list(jobs, more), {}

    async def cancel(self, request: Request, job_id: str) -> Answer:
        service = self._on()
        owner = await self._intake.keys.owner(request)
        if not is_job_id(job_id):
            raise JobNotFound()
        return 200, job_body(await asyncio.to_thread(service.cancel, owner, job_id)), {}

    async def rotate_secret(self, request: Request) -> Answer:
        service = self._on()
        owner = await self._intake.keys.owner(request)
        secret, info = await asyncio.to_thread(service.rotate_secret, owner)
        return 201, secret_body(secret, info), {"Cache-Control": "no-store"}

    async def secret_status(self, request: Request) -> Answer:
        service = self._on()
        owner = await self._intake.keys.owner(request)
        return 200, secret_status(await asyncio.to_thread(service.secret_info, owner)), {}


def page_request(request: Request, is_cursor: Callable[[str], bool]) -> tuple[int, str | None]:
    """A list route's `limit` and `cursor` (a next_cursor from an earlier page, as `is_cursor` recognises it)."""
    limit_text = request.query_params.get("limit", str(DEFAULT_PAGE))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise InvalidRequest(f"Query parameter 'limit' must be a whole number from 1 to {MAX_PAGE}.")
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and not is_cursor(cursor):
        raise InvalidRequest("Query parameter 'cursor' must be a next_cursor from an earlier page.")
    return int(limit_text), cursor


def _idempotency_key(request: Request) -> str | None:
    values = request.headers.getlist("idempotency-key")
    if not values:
        return None
    key = values[0].strip()
    if len(values) > 1 or not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isascii() or not key.isprintable():
        raise InvalidRequest(
            f"Header 'Idempotency-Key' must be one value of 1 to {MAX_IDEMPOTENCY_KEY_CHARS} "
            "printable ASCII characters."
        )
    return key


def _job_routes(request: Request) -> JobRoutes:
    return request.app.state.jobs


Jobs = Annotated[JobRoutes, Depends(_job_routes)]
router = APIRouter()
# No bound of its own on the route: one would answer 422 before the key is checked. A malformed id is a 404 like an
# unknown one, after the key (JobRoutes).
JOB_ID = Path(description="The job's `id`.")


@router.post(
    JOBS_PATH,
    status_code=202,
    openapi_extra=JOB_PARAMETERS,
    responses=JOB_ERROR_RESPONSES,
    response_model=Job,
    summary="Queue an analysis of one video as a job: 202 at once, the result later "
    "(GET the job, or a signed webhook).",
)
async def create_job(request: Request, jobs: Jobs) -> JSONResponse:
    return await jobs.respond("create-job", jobs.submit(request))


@router.get(
    JOBS_PATH,
    openapi_extra=JOB_LIST_PARAMETERS,
    responses=JOB_ERROR_RESPONSES,
    response_model=JobList,
    summary="The key owner's jobs, newest first, a page at a time.",
)
async def list_jobs(request: Request, jobs: Jobs) -> JSONResponse:
    return await jobs.respond("list-jobs", jobs.list(request))


@router.get(
    JOBS_PATH + "/{job_id}",
    responses=JOB_ERROR_RESPONSES,
    response_model=Job,
    summary="A job: its status, and its result once it has succeeded.",
)
async def get_job(request: Request, jobs: Jobs, job_id: str = JOB_ID) -> JSONResponse:
    return await jobs.respond("get-job", jobs.get(request, job_id))


@router.delete(
    JOBS_PATH + "/{job_id}",
    responses=JOB_ERROR_RESPONSES,
    response_model=Job,
    summary="Cancel a queued or running job.",
)
async def cancel_job(request: Request, jobs: Jobs, job_id: str = JOB_ID) -> JSONResponse:
    return await jobs.respond("cancel-job", jobs.cancel(request, job_id))


@router.post(
    "/api/v1/webhooks/secret",
    status_code=201,
    responses=JOB_ERROR_RESPONSES,
    response_model=WebhookSecretBody,
    summary="Create or rotate the key owner's webhook signing secret; it is shown only in this answer.",
)
async def rotate_webhook_secret(request: Request, jobs: Jobs) -> JSONResponse:
    return await jobs.respond("rotate-webhook-secret", jobs.rotate_secret(request))


@router.get(
    "/api/v1/webhooks/secret",
    responses=JOB_ERROR_RESPONSES,
    response_model=WebhookSecretStatus,
    summary="Whether the key owner has a webhook signing secret, and since when (never the secret).",
)
async def webhook_secret_status(request: Request, jobs: Jobs) -> JSONResponse:
    return await jobs.respond("webhook-secret", jobs.secret_status(request))
