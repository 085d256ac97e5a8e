"""The HTTP ingress: one Serve deployment whose FastAPI app (api/, the dashboard beside it) is built per replica from
the services its composition root made (deployments/replicas.py). The analysis itself is models/pipeline.py, run
over the model deployments' handles."""

from __future__ import annotations

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from softskills.config.options import (
    AnalysisOptions,
    DashboardOptions,
    HttpOptions,
    JobOptions,
    StorageOptions,
    SubjectOptions,
)
from softskills.deployments.replicas import ingress_app, ingress_services


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=16, max_queued_requests=32)
@serve.ingress()
class Ingress:
    def __init__(
        self,
        speech: DeploymentHandle,
        face: DeploymentHandle,
        engine: DeploymentHandle,
        http: dict | None = None,
        analysis: dict | None = None,
        storage: dict | None = None,
        dashboard: dict | None = None,
        jobs: dict | None = None,
        subjects: dict | None = None,
        job_consumer: DeploymentHandle = None,
        webhook_sender: DeploymentHandle = None,
    ):
        """`job_consumer` and `webhook_sender` are never called: jobs reach them through the task queue. Taking
        their handles makes them part of the application, as Ray's asynchronous-inference guide does."""
        self._services = ingress_services(
            HttpOptions(**(http or {})),
            AnalysisOptions(**(analysis or {})),
            StorageOptions(**(storage or {})),
            DashboardOptions(**(dashboard or {})),
            JobOptions(**(jobs or {})),
            SubjectOptions(**(subjects or {})),
            speech,
            face,
            engine,
        )

    def __serve_build_asgi_app__(self) -> FastAPI:
        """Serve calls this once the replica is constructed: the app, with this replica's services."""
        return ingress_app(self._services)
