"""HTTP ingress: routes, parsing, authentication and admission. The analysis itself is models/pipeline.py, run over
the model deployments' handles; every error becomes its answer in deployments/errors.py.
"""

# No `from __future__ import annotations` here: FastAPI must see the real `Request` type through Serve's
# class-based routes, or it takes `request` for a query parameter.
import asyncio
import functools
import logging
import time

from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.datastructures import UploadFile

from softskills.dashboard.routes import router as dashboard_router
from softskills.deployments.analysis import answer_body, model_stages
from softskills.deployments.config import IngressOptions, JobOptions
from softskills.deployments.errors import (AuthUnavailable, RequestTimeout, ServiceError, Unauthorized,
                                answer_for, install_error_handler, log_unexpected, status_for)
from softskills.deployments.form_fields import parse_analysis_request
from softskills.deployments.http_limits import Admission, Uploads, check_declared_size
from softskills.deployments.metrics import observe_request, observe_stage
from softskills.deployments.job_responses import Job, JobList, WebhookSecretBody, WebhookSecretStatus
from softskills.deployments.job_routes import JobRoutes
from softskills.deployments.openapi import (ANALYSIS_REQUEST_BODY, ERROR_RESPONSES, JOB_ERROR_RESPONSES, JOB_LIST_PARAMETERS,
                                 JOB_REQUEST_BODY)
from softskills.deployments.responses import FullAnalysis, VideoAnalysis
from softskills.models.pipeline import Pipeline
from softskills.storage.janitor import Janitor
from softskills.storage.routes import router as media_router

logger = logging.getLogger("ray.serve")

api = FastAPI(
    title="SoftSkills API",
    version="1.0.0",
    description="Communication analysis of a video of a person speaking: transcript, pace, filler words, pauses, "
                "voice, eye contact, facial behaviour, scores with the evidence behind them, and feedback. "
                "Authenticate with `Authorization: Bearer ng_...` or `X-API-Key: ng_...`.",
)
# Before @serve.ingress below: Serve freezes the app's routes there. One port serves the API, the dashboard and
# the local video store's signed URLs.
api.include_router(dashboard_router)
api.include_router(media_router)
install_error_handler(api)

# No bound of its own on the route: one would answer 422 before the key is checked. A malformed id is a 404 like an
# unknown one, after the key (JobRoutes).
JOB_ID = Path(description="The job's `id`.")


def start_retention_purge(jobs: JobOptions) -> Janitor:
    """Finished jobs and dashboard reports are deleted `jobs.retention_s` after they finished (their `expires_at`),
    looked for every `jobs.sweep_interval_s` by each ingress replica, whatever is enabled: the job consumers' sweep
    deletes them too, but there is none when jobs are off, and the dashboard keeps reports either way."""
    from softskills.auth.store import database_url
    from softskills.jobs.store import JobStore

    return Janitor(JobStore(database_url()).purge_expired, jobs.sweep_interval_s,
                   "finished jobs and reports past retention").start()


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=16, max_queued_requests=32)
@serve.ingress(api)
class Ingress:
    def __init__(self, speech: DeploymentHandle, face: DeploymentHandle, engine: DeploymentHandle,
                 options: dict | None = None, jobs: dict | None = None, job_consumer: DeploymentHandle = None,
                 webhook_sender: DeploymentHandle = None):
        """`job_consumer` and `webhook_sender` are never called: jobs reach them through the task queue. Taking
        their handles makes them part of the application, as Ray's asynchronous-inference guide does."""
        from softskills.auth.service import Authenticator
        from softskills.auth.store import KeyStore, database_url
        from softskills.dashboard.routes import attach
        from softskills.storage.factory import start_video_store

        self._opts = IngressOptions(**(options or {}))
        retry_after_s = self._opts.retry_after_s
        self._pipeline = Pipeline(model_stages(speech, face, engine, retry_after_s), self._opts.pipeline_options(),
                                  observe=observe_stage)
        self._authenticator = Authenticator(KeyStore(database_url()), cache_ttl_s=self._opts.auth_cache_ttl_s)
        self._admission = Admission(self._opts.max_concurrent_analyses, self._opts.max_waiting_analyses,
                                    retry_after_s)
        self._uploads = Uploads(self._opts)
        self._videos = start_video_store(self._opts.storage)
        job_options = JobOptions(**(jobs or {}))
        self._jobs = JobRoutes(self._opts, job_options, self._videos, self._uploads)
        attach(self._opts.dashboard, self._videos,
               lambda request, owner: self._handle(request, full=True, session_owner=owner),
               reports_retention_s=job_options.retention_s, form_rate=self._uploads.min_rate)
        self._retention = start_retention_purge(job_options)

    @api.get("/health", summary="Liveness: the ingress answers.")
    async def health(self) -> dict:
        return {"status": "ok"}

    @api.post("/api/v1/analyze-video", openapi_extra=ANALYSIS_REQUEST_BODY, responses=ERROR_RESPONSES,
              response_model=VideoAnalysis, summary="Standard communication analysis of one video (stateless).")
    async def analyze_video(self, request: Request) -> JSONResponse:
        return await self._handle(request, full=False)

    @api.post("/api/v1/full-analysis", openapi_extra=ANALYSIS_REQUEST_BODY, responses=ERROR_RESPONSES,
              response_model=FullAnalysis,
              summary="Video analysis plus the engine's interpretation, KPIs and transcript.")
    async def full_analysis(self, request: Request) -> JSONResponse:
        return await self._handle(request, full=True)

    @api.post("/api/v1/jobs", status_code=202, openapi_extra=JOB_REQUEST_BODY, responses=JOB_ERROR_RESPONSES,
              response_model=Job, summary="Queue an analysis of one video as a job: 202 at once, the result later "
                                          "(GET the job, or a signed webhook).")
    async def create_job(self, request: Request) -> JSONResponse:
        return await self._jobs.respond("create-job", self._jobs.submit(request, self._authenticate))

    @api.get("/api/v1/jobs", openapi_extra=JOB_LIST_PARAMETERS, responses=JOB_ERROR_RESPONSES,
             response_model=JobList, summary="The key owner's jobs, newest first, a page at a time.")
    async def list_jobs(self, request: Request) -> JSONResponse:
        return await self._jobs.respond("list-jobs", self._jobs.list(request, self._authenticate))

    @api.get("/api/v1/jobs/{job_id}", responses=JOB_ERROR_RESPONSES, response_model=Job,
             summary="A job: its status, and its result once it has succeeded.")
    async def get_job(self, request: Request, job_id: str = JOB_ID) -> JSONResponse:
        return await self._jobs.respond("get-job", self._jobs.get(request, self._authenticate, job_id))

    @api.delete("/api/v1/jobs/{job_id}", responses=JOB_ERROR_RESPONSES, response_model=Job,
                summary="Cancel a queued or running job.")
    async def cancel_job(self, request: Request, job_id: str = JOB_ID) -> JSONResponse:
        return await self._jobs.respond("cancel-job", self._jobs.cancel(request, self._authenticate, job_id))

    @api.post("/api/v1/webhooks/secret", status_code=201, responses=JOB_ERROR_RESPONSES,
              response_model=WebhookSecretBody,
              summary="Create or rotate the key owner's webhook signing secret; it is shown only in this answer.")
    async def rotate_webhook_secret(self, request: Request) -> JSONResponse:
        return await self._jobs.respond("rotate-webhook-secret", self._jobs.rotate_secret(request,
                                                                                         self._authenticate))

    @api.get("/api/v1/webhooks/secret", responses=JOB_ERROR_RESPONSES, response_model=WebhookSecretStatus,
             summary="Whether the key owner has a webhook signing secret, and since when (never the secret).")
    async def webhook_secret_status(self, request: Request) -> JSONResponse:
        return await self._jobs.respond("webhook-secret", self._jobs.secret_status(request, self._authenticate))

    async def _handle(self, request: Request, full: bool, session_owner: str | None = None) -> JSONResponse:
        """Every answer is counted in the metrics and logged once, with Serve's request id (also the X-Request-ID
        response header); never with the key or the upload's name. `session_owner`: the dashboard checked the
        signed-in session (and CSRF) instead of a key."""
        endpoint = "full-analysis" if full else "analyze-video"
        started = time.perf_counter()
        status = 500
        try:
            body = await asyncio.wait_for(self._answer(request, full, session_owner),
                                          timeout=self._opts.request_timeout_s)
            status = 200
            return JSONResponse(body)
        except asyncio.TimeoutError:
            status = 504
            raise RequestTimeout(self._opts.request_timeout_s) from None
        except Exception as exc:
            if answer_for(exc) is not None:
                status = status_for(exc)
                raise
            log_unexpected("analysis failed", exc)
            raise ServiceError() from None
        finally:
            elapsed_s = time.perf_counter() - started
            observe_request(endpoint, status, elapsed_s)
            logger.info("%s answered %d in %.2f s", endpoint, status, elapsed_s)

    async def _answer(self, request: Request, full: bool, session_owner: str | None) -> dict:
        """The upload is received in full (spooled, under its own slots and bounds) and its fields checked before
        it takes an analysis slot: a slow upload never holds one. A service already full says so before reading."""
        o = self._opts
        check_declared_size(request, o.max_upload_bytes)  # before anything else: it costs nothing, reads nothing
        owner = session_owner if session_owner is not None else await self._authenticate(request)
        self._admission.refuse_if_full()
        async with self._uploads.form(request, owner) as form:  # the spooled upload is deleted when it ends
            video, session_id, analysis_input = parse_analysis_request(form, o)
            keep_video = functools.partial(self._store_video, video, str(request.base_url), owner) if full else None
            async with self._admission.slot():
                analysis = await self._pipeline.analyze(video.file, analysis_input, keep_video)
        return await asyncio.to_thread(answer_body, analysis, full, session_id)

    async def _authenticate(self, request: Request) -> str:
        """The key's owner."""
        try:
            key = await asyncio.to_thread(self._authenticator.authenticate, request.headers)
        except Exception as exc:
            logger.error("key store unavailable: %s", type(exc).__name__)
            raise AuthUnavailable() from None
        if key is None:
            raise Unauthorized()
        return key.owner

    async def _store_video(self, video: UploadFile, base_url: str, owner: str):
        """Keeps the upload behind a temporary URL within the owner's quota; not keeping it costs the URL (null,
        with the reason), never the analysis."""
        from softskills.storage.factory import STORAGE_OFF_REASON, SavedVideo

        if self._videos is None:
            return SavedVideo(None, STORAGE_OFF_REASON)
        return await asyncio.to_thread(self._videos.save, video.file, base_url, owner)
