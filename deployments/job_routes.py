"""The HTTP side of jobs, for the ingress's thin routes: parse and bound what the client sent, authenticate with the
same API keys, receive the upload under the ingress's upload limits, keep a few at a time (apart from the
synchronous analyses' slots), and shape the answers.
The work is jobs/service.py's; every error is answered by deployments/errors.py's table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse

from softskills.deployments.config import IngressOptions, JobOptions
from softskills.deployments.errors import InvalidRequest, status_for
from softskills.deployments.form_fields import parse_analysis_request, text_field
from softskills.deployments.http_limits import Admission, Uploads, check_declared_size
from softskills.deployments.job_responses import JOBS_PATH, job_body, job_list, secret_body, secret_status
from softskills.deployments.metrics import observe_request
from softskills.jobs.errors import JobNotFound, JobsOff
from softskills.jobs.runner import JobRequest
from softskills.jobs.store import ANALYSES, MAX_IDEMPOTENCY_KEY_CHARS, is_job_id

logger = logging.getLogger("ray.serve")

DEFAULT_ANALYSIS = "full-analysis"
MAX_PAGE = 100
DEFAULT_PAGE = 20
STORAGE_OFF_DETAIL = "Jobs are off on this server: they need the video store (ingress.storage.backend local or s3)."

Authenticate = Callable[[Request], Awaitable[str]]


class JobRoutes:
    """One per ingress replica. A job takes exactly the synchronous endpoints' fields (deployments/form_fields.py)."""

    def __init__(self, ingress: IngressOptions, options: JobOptions, videos, uploads: Uploads) -> None:
        """`uploads`: the replica's, shared with the synchronous analyses and the dashboard."""
        self._ingress = ingress
        self._uploads = uploads
        self._admission = Admission(options.max_concurrent_uploads, options.max_waiting_uploads,
                                    ingress.retry_after_s)
        self._service = None
        self._off_reason = None if options.enabled else JobsOff().args[0]
        if options.enabled and videos is None:
            self._off_reason = STORAGE_OFF_DETAIL
        if self._off_reason is None:
            self._service = _job_service(ingress, options, videos)

    async def respond(self, endpoint: str, work: Awaitable[tuple[int, dict, dict]]) -> JSONResponse:
        """Runs a route's work; logs one line (with Serve's request id) and counts it, as the analyses do. Errors go
        on to the app's one handler (an unexpected one is logged there with its traceback)."""
        started, status = time.perf_counter(), 500
        try:
            status, body, headers = await work
            return JSONResponse(body, status_code=status, headers=headers or None)
        except Exception as exc:
            status = status_for(exc)
            raise
        finally:
            elapsed_s = time.perf_counter() - started
            observe_request(endpoint, status, elapsed_s)
            logger.info("%s answered %d in %.2f s", endpoint, status, elapsed_s)

    def _on(self):
        if self._service is None:
            raise JobsOff(self._off_reason)
        return self._service

    async def submit(self, request: Request, authenticate: Authenticate) -> tuple[int, dict, dict]:
        from softskills.jobs.service import Submission

        o = self._ingress
        check_declared_size(request, o.max_upload_bytes)
        service = self._on()
        owner = await authenticate(request)
        idempotency_key = _idempotency_key(request)
        self._admission.refuse_if_full()
        # The spooled upload is deleted when the block ends; the store has its copy.
        async with self._uploads.form(request, owner) as form:
            video, session_id, analysis_input = parse_analysis_request(form, o)
            analysis = text_field(form, "analysis") or DEFAULT_ANALYSIS
            if analysis not in ANALYSES:
                raise InvalidRequest(f"Field 'analysis' must be one of: {', '.join(ANALYSES)}.")
            async with self._admission.slot():
                if analysis_input.mediapipe_samples is not None:  # refused now rather than when the job runs
                    from softskills.models.face.landmarks import parse_samples

                    await asyncio.to_thread(parse_samples, analysis_input.mediapipe_samples)
                submission = Submission(owner, video.file, JobRequest(analysis, analysis_input, session_id),
                                        str(request.base_url), text_field(form, "webhook_url"), idempotency_key)
                job, replayed = await asyncio.to_thread(service.submit, submission)
        headers = {"Location": f"{JOBS_PATH}/{job.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return 202, job_body(job), headers

    async def get(self, request: Request, authenticate: Authenticate, job_id: str) -> tuple[int, dict, dict]:
        service = self._on()
        owner = await authenticate(request)
        if not is_job_id(job_id):
            raise JobNotFound()
        return 200, job_body(await asyncio.to_thread(service.get, owner, job_id)), {}

    async def list(self, request: Request, authenticate: Authenticate) -> tuple[int, dict, dict]:
        service = self._on()
        owner = await authenticate(request)
        limit_text = request.query_params.get("limit", str(DEFAULT_PAGE))
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
            raise InvalidRequest(f"Query parameter 'limit' must be a whole number from 1 to {MAX_PAGE}.")
        cursor = request.query_params.get("cursor") or None
        if cursor is not None and not is_job_id(cursor):
            raise InvalidRequest("Query parameter 'cursor' must be a next_cursor from an earlier page.")
        jobs, more = await asyncio.to_thread(service.list, owner, int(limit_text), cursor)
        return 200, job_list(jobs, more), {}

    async def cancel(self, request: Request, authenticate: Authenticate, job_id: str) -> tuple[int, dict, dict]:
        service = self._on()
        owner = await authenticate(request)
        if not is_job_id(job_id):
            raise JobNotFound()
        return 200, job_body(await asyncio.to_thread(service.cancel, owner, job_id)), {}

    async def rotate_secret(self, request: Request, authenticate: Authenticate) -> tuple[int, dict, dict]:
        service = self._on()
        owner = await authenticate(request)
        secret, info = await asyncio.to_thread(service.rotate_secret, owner)
        return 201, secret_body(secret, info), {"Cache-Control": "no-store"}

    async def secret_status(self, request: Request, authenticate: Authenticate) -> tuple[int, dict, dict]:
        service = self._on()
        owner = await authenticate(request)
        return 200, secret_status(await asyncio.to_thread(service.secret_info, owner)), {}


def _idempotency_key(request: Request) -> str | None:
    values = request.headers.getlist("idempotency-key")
    if not values:
        return None
    key = values[0].strip()
    if (len(values) > 1 or not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isascii()
            or not key.isprintable()):
        raise InvalidRequest(f"Header 'Idempotency-Key' must be one value of 1 to {MAX_IDEMPOTENCY_KEY_CHARS} "
                             "printable ASCII characters.")
    return key


def _job_service(ingress: IngressOptions, options: JobOptions, videos):
    from softskills.auth.store import KeyStore, database_url
    from softskills.deployments.jobs import enqueuer
    from softskills.jobs.queue import ANALYZE_TASK
    from softskills.jobs.service import JobService
    from softskills.jobs.store import JobStore
    from softskills.jobs.webhooks import SecretBox, WebhookSecrets

    url = database_url()
    return JobService(
        store=JobStore(url), videos=videos, secrets=WebhookSecrets(url, SecretBox(KeyStore(url).pepper)),
        enqueue=enqueuer(options, options.queue_name, options.max_attempts - 1, ANALYZE_TASK),
        max_active_per_owner=options.max_active_per_owner,
        upload_ttl_s=options.upload_ttl_s, idempotency_ttl=timedelta(seconds=options.idempotency_ttl_s),
        retention=timedelta(seconds=options.retention_s),
        rotation_grace=timedelta(seconds=options.webhooks.secret_rotation_grace_s),
        allowed_networks=options.webhooks.allowed_networks, retry_after_s=ingress.retry_after_s)
