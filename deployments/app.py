"""The application graph: `serve run serve_config.yaml` imports `deployments.app:build_app`."""

from __future__ import annotations

from ray.serve import Application

from softskills.deployments.config import AppArgs, JobOptions
from softskills.deployments.engine import EngineDeployment
from softskills.deployments.face import FaceLandmarksDeployment
from softskills.deployments.ingress import Ingress
from softskills.deployments.jobs import job_consumer_deployment, webhook_sender_deployment
from softskills.deployments.speech import SpeechToTextDeployment


def build_app(args: AppArgs) -> Application:
    """Serve's application builder; `args` are the `args:` of the config file, validated by pydantic. The job
    consumers share the model deployments with the ingress."""
    if isinstance(args, dict):
        args = AppArgs(**args)
    speech = SpeechToTextDeployment.bind(args.speech.model_dump())
    face = FaceLandmarksDeployment.bind(args.face.model_dump())
    engine = EngineDeployment.bind(args.engine.model_dump())
    ingress, jobs = args.ingress.model_dump(), _with_broker(args.jobs)
    consumers = (job_consumer_deployment(jobs).bind(speech, face, engine, ingress, jobs.model_dump()),
                 webhook_sender_deployment(jobs).bind(ingress, jobs.model_dump())) if jobs.enabled else ()
    return Ingress.bind(speech, face, engine, ingress, jobs.model_dump(), *consumers)


def _with_broker(jobs: JobOptions) -> JobOptions:
    """The broker resolved once, here, so that the ingress and every consumer replica use the same one."""
    from softskills.auth.store import data_dir
    from softskills.jobs.queue import resolve_broker

    if not jobs.enabled:
        return jobs
    broker, backend = resolve_broker(jobs.broker_url, jobs.result_backend_url, data_dir())
    return jobs.model_copy(update={"broker_url": broker, "result_backend_url": backend})
