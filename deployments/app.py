"""The application graph: `serve run serve_config.yaml` imports `deployments.app:build_app`."""

from __future__ import annotations

from ray.serve import Application

from softskills.config.options import AppArgs, JobOptions
from softskills.db.files import data_dir
from softskills.deployments.engine import EngineDeployment
from softskills.deployments.face import FaceLandmarksDeployment
from softskills.deployments.ingress import Ingress
from softskills.deployments.jobs import job_consumer_deployment, webhook_sender_deployment
from softskills.deployments.speech import SpeechToTextDeployment
from softskills.jobs.queue import resolve_broker


def build_app(args: AppArgs) -> Application:
    """Serve's application builder; `args` are the `args:` of the config file, validated by pydantic. Each deployment
    gets the sections it reads; the job consumers share the model deployments with the ingress."""
    if isinstance(args, dict):
        args = AppArgs(**args)
    speech = SpeechToTextDeployment.bind(args.speech.model_dump())
    face = FaceLandmarksDeployment.bind(args.face.model_dump())
    engine = EngineDeployment.bind(args.engine.model_dump())
    analysis, storage, jobs = args.analysis.model_dump(), args.storage.model_dump(), _with_broker(args.jobs)
    subjects = args.subjects.model_dump()
    consumers = (
        (
            job_consumer_deployment(jobs).bind(
                speech, face, engine, analysis, storage, jobs.model_dump(), subjects, args.http.retry_after_s
            ),
            webhook_sender_deployment(jobs).bind(jobs.model_dump(), args.storage.public_base_url),
        )
        if jobs.enabled
        else ()
    )
    return Ingress.bind(
        speech,
        face,
        engine,
        args.http.model_dump(),
        analysis,
        storage,
        args.dashboard.model_dump(),
        jobs.model_dump(),
        subjects,
        *consumers,
    )


def _with_broker(jobs: JobOptions) -> JobOptions:
    """The broker resolved once, here, so that the ingress and every consumer replica use the same one."""
    if not jobs.enabled:
        return jobs
    broker, backend = resolve_broker(jobs.broker_url, jobs.result_backend_url, data_dir())
    return jobs.model_copy(update={"broker_url": broker, "result_backend_url": backend})
