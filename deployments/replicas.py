"""The composition roots: what each kind of replica builds from its configuration sections and its Ray handles, one
function per process kind, called once by its deployment class. Every store, service and option object a replica
uses is made here, once; the routes and runners only receive them.

- `ingress_services`: the key store and authenticator, the job store and job service, the subjects' sessions, the
  video store, webhook secrets, the dashboard's backend, and the HTTP app (`ingress_app`) that serves them.
- `job_consumer_services`: the job store, the subjects' sessions, the video store, the pipeline over the model
  handles, the runner and the sweep.
- `webhook_sender_services`: the job store, the webhook secrets and the sender.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from ray.serve.handle import DeploymentHandle

from softskills.api.app import build_api
from softskills.api.errors import classify_failure
from softskills.api.intake import ApiKeys, Intake
from softskills.api.limits import Admission, Uploads
from softskills.api.responses import build_answer
from softskills.api.routes.analysis import SynchronousAnalyses
from softskills.api.routes.jobs import JobRoutes, jobs_off_reason
from softskills.api.routes.subjects import SubjectRoutes
from softskills.auth.accounts import AccountStore
from softskills.auth.service import Authenticator
from softskills.auth.store import KeyStore, database_pepper
from softskills.config.options import (
    AnalysisOptions,
    DashboardOptions,
    HttpOptions,
    JobOptions,
    StorageOptions,
    SubjectOptions,
)
from softskills.dashboard import routes as dashboard
from softskills.db.engine import database_url
from softskills.db.files import data_dir
from softskills.deployments.metrics import observe_request, observe_stage
from softskills.deployments.stages import model_stages
from softskills.deployments.task_queue import analysis_queue, enqueuer, webhook_queue
from softskills.jobs.queue import prune_embedded_broker
from softskills.jobs.runner import JobRunner, RunOptions, webhook_notifier
from softskills.jobs.service import JobService
from softskills.jobs.store import JobStore
from softskills.jobs.sweeper import Sweeper, start_retention_purge
from softskills.jobs.webhooks import Backoff, SecretBox, WebhookSecrets, WebhookSender
from softskills.models.pipeline import Pipeline
from softskills.storage.factory import start_video_store
from softskills.storage.janitor import Janitor
from softskills.storage.local import LocalVideoStore
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SubjectStore

PIDBOX_LEFTOVER_S = 300  # a remote-control message still unread after this is addressed to a worker that is gone


@dataclass(frozen=True)
class IngressServices:
    http: HttpOptions
    analyses: SynchronousAnalyses
    jobs: JobRoutes
    subjects: SubjectRoutes
    media: LocalVideoStore | None  # the local store, whose signed URLs the ingress serves; None for S3 or off
    dashboard: dashboard.DashboardBackend | None  # None: the dashboard is off
    retention: Janitor  # deletes finished jobs, reports and subjects' sessions past retention


def ingress_services(
    http: HttpOptions,
    analysis: AnalysisOptions,
    storage: StorageOptions,
    dashboard_options: DashboardOptions,
    jobs: JobOptions,
    subject_options: SubjectOptions,
    speech: DeploymentHandle,
    face: DeploymentHandle,
    engine: DeploymentHandle,
) -> IngressServices:
    url = database_url()
    keys, job_store = KeyStore(url), JobStore(url)
    subjects = SubjectSessions(SubjectStore(url), subject_options)
    videos = start_video_store(storage, data_dir(), url)
    intake = Intake(
        http,
        analysis.observable_only,
        ApiKeys(Authenticator(keys, cache_ttl_s=http.auth_cache_ttl_s)),
        Uploads(http),
        observe_request,
    )
    analyses = SynchronousAnalyses(
        _pipeline(analysis, speech, face, engine, http.retry_after_s), intake, videos, subjects
    )
    off_reason = jobs_off_reason(jobs, videos)
    job_service = (
        None
        if off_reason
        else JobService(
            store=job_store,
            videos=videos,
            secrets=WebhookSecrets(url, SecretBox(keys.pepper)),
            enqueue=enqueuer(jobs, analysis_queue(jobs)),
            max_active_per_owner=jobs.max_active_per_owner,
            upload_ttl_s=jobs.upload_ttl_s,
            idempotency_ttl=timedelta(seconds=jobs.idempotency_ttl_s),
            retention=timedelta(seconds=jobs.retention_s),
            rotation_grace=timedelta(seconds=jobs.webhooks.secret_rotation_grace_s),
            allowed_networks=jobs.webhooks.allowed_networks,
            retry_after_s=http.retry_after_s,
            subjects=subjects.store,
            max_subjects_per_owner=subject_options.max_subjects_per_owner,
        )
    )
    submissions = Admission(jobs.max_concurrent_uploads, jobs.max_waiting_uploads, http.retry_after_s)
    board = None
    if dashboard_options.enabled:
        board = dashboard.dashboard_backend(
            dashboard_options,
            accounts=AccountStore(url, policy=dashboard.login_policy(dashboard_options)),
            keys=keys,
            reports=job_store,
            subjects=subjects.store,
            analyze=lambda request, owner: analyses.answer(request, full=True, session_owner=owner),
            media_sources=videos.media_origins if videos is not None else (),
            reports_retention=timedelta(seconds=jobs.retention_s),
            form_rate=intake.uploads.min_rate,
        )
    return IngressServices(
        http=http,
        analyses=analyses,
        jobs=JobRoutes(job_service, off_reason, intake, submissions),
        subjects=SubjectRoutes(subjects, intake),
        media=videos.local_store if videos is not None else None,
        dashboard=board,
        retention=start_retention_purge(job_store, jobs.sweep_interval_s, subjects.store.purge),
    )


def ingress_app(services: IngressServices) -> FastAPI:
    """The replica's HTTP app: the API, and the dashboard beside it when it is on."""
    app = build_api(services.http, services.analyses, services.jobs, services.media, services.subjects)
    if services.dashboard is not None:
        dashboard.mount(app, services.dashboard)
    return app


@dataclass(frozen=True)
class ConsumerServices:
    runner: JobRunner
    sweeping: threading.Event  # set it to stop the replica's sweep


def job_consumer_services(
    analysis: AnalysisOptions,
    storage: StorageOptions,
    jobs: JobOptions,
    subject_options: SubjectOptions,
    retry_after_s: int,
    speech: DeploymentHandle,
    face: DeploymentHandle,
    engine: DeploymentHandle,
) -> ConsumerServices:
    """`retry_after_s`: what a model deployment's full queue answers, a 503 the runner retries like any other."""
    url = database_url()
    store, videos = JobStore(url), start_video_store(storage, data_dir(), url)
    enqueue_job, enqueue_webhook = enqueuer(jobs, analysis_queue(jobs)), enqueuer(jobs, webhook_queue(jobs))
    lease, retention = timedelta(seconds=jobs.lease_timeout_s), timedelta(seconds=jobs.retention_s)
    runner = JobRunner(
        store=store,
        pipeline=_pipeline(analysis, speech, face, engine, retry_after_s),
        videos=videos,
        answer=lambda analysis, request: build_answer(
            analysis, request.analysis == "full-analysis", request.session_id
        ),
        classify=classify_failure,
        notify=webhook_notifier(store, enqueue_webhook),
        options=RunOptions(jobs.max_attempts, jobs.job_timeout_s, jobs.heartbeat_s, lease, retention),
        subjects=SubjectSessions(SubjectStore(url), subject_options),
    )
    sweeping = Sweeper(
        store,
        videos,
        enqueue_job,
        enqueue_webhook,
        lease,
        timedelta(seconds=jobs.requeue_after_s),
        timedelta(seconds=jobs.upload_ttl_s),
        retention,
        lambda: prune_embedded_broker(jobs.broker_url, PIDBOX_LEFTOVER_S),
    ).start(jobs.sweep_interval_s)
    return ConsumerServices(runner, sweeping)


@dataclass(frozen=True)
class SenderServices:
    sender: WebhookSender
    enqueue: Callable[..., None]  # puts the next delivery attempt on the webhook queue


def webhook_sender_services(jobs: JobOptions, public_base_url: str | None) -> SenderServices:
    """`public_base_url`: `storage.public_base_url`, the base of the links a delivery carries."""
    url, w = database_url(), jobs.webhooks
    sender = WebhookSender(
        store=JobStore(url),
        secrets=WebhookSecrets(url, SecretBox(database_pepper(url))),
        backoff=Backoff(w.max_attempts, w.first_retry_s, w.backoff_factor, w.max_retry_delay_s),
        timeout_s=w.timeout_s,
        allowed_networks=w.allowed_networks,
        lease_timeout=timedelta(seconds=jobs.lease_timeout_s),
        public_base_url=public_base_url,
    )
    return SenderServices(sender, enqueuer(jobs, webhook_queue(jobs)))


def _pipeline(
    analysis: AnalysisOptions,
    speech: DeploymentHandle,
    face: DeploymentHandle,
    engine: DeploymentHandle,
    retry_after_s: int,
) -> Pipeline:
    """The analysis over the model deployments, each stage timed in the metrics."""
    return Pipeline(
        model_stages(speech, face, engine, retry_after_s), analysis.pipeline_options(), observe=observe_stage
    )
