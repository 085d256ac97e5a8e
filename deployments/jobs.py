"""The job consumers: Ray Serve's asynchronous inference (`@task_consumer` deployments fed by Celery through the task
processor adapter; deployments/task_queue.py has the queues, jobs/queue.py the broker).

- JobConsumer takes analysis jobs off `jobs.queue_name` and runs them (jobs/runner.py) through the same pipeline and
  model deployments as the synchronous endpoints; each replica also sweeps (jobs/sweeper.py).
- WebhookSender takes delivery attempts off `jobs.webhook_queue_name`, so a notification never waits behind a long
  analysis; a failed attempt schedules the next one with exponential back-off (jobs/webhooks.py).

Ray Serve runs only synchronous task handlers, in the adapter's worker threads; the analysis is asynchronous, so a
handler runs it on the replica's own event loop (where the deployment handles live) and waits for it.
The TaskProcessorConfig is known only once the configuration is read, so `build_app` makes the deployments with
`job_consumer_deployment` and `webhook_sender_deployment`.
"""

from __future__ import annotations

import asyncio

from ray import serve
from ray.serve.handle import DeploymentHandle
from ray.serve.task_consumer import task_consumer, task_handler

from softskills.config.options import AnalysisOptions, JobOptions, StorageOptions, SubjectOptions
from softskills.deployments.replicas import job_consumer_services, webhook_sender_services
from softskills.deployments.task_queue import analysis_queue, task_processor_config, webhook_queue
from softskills.jobs.queue import ANALYZE_TASK, WEBHOOK_TASK
from softskills.jobs.runner import Outcome


class AttemptFailed(Exception):
    """Raised to the task queue so that it retries the job after its back-off (the job is queued again)."""


class JobConsumer:
    def __init__(
        self,
        speech: DeploymentHandle,
        face: DeploymentHandle,
        engine: DeploymentHandle,
        analysis: dict,
        storage: dict,
        jobs: dict,
        subjects: dict,
        retry_after_s: int,
    ):
        self._loop = asyncio.get_running_loop()  # the replica's loop: the handler threads run analyses on it
        self._services = job_consumer_services(
            AnalysisOptions(**analysis),
            StorageOptions(**storage),
            JobOptions(**jobs),
            SubjectOptions(**subjects),
            retry_after_s,
            speech,
            face,
            engine,
        )

    @task_handler(name=ANALYZE_TASK)
    def analyze_job(self, job_id: str) -> str:
        run = self._services.runner.run(str(job_id))
        outcome, detail = asyncio.run_coroutine_threadsafe(run, self._loop).result()
        if outcome is Outcome.RETRY:
            raise AttemptFailed(detail)
        return outcome.value

    def __del__(self):
        services = getattr(self, "_services", None)
        if services is not None:
            services.sweeping.set()


class WebhookSender:
    def __init__(self, jobs: dict, public_base_url: str | None):
        self._services = webhook_sender_services(JobOptions(**jobs), public_base_url)

    @task_handler(name=WEBHOOK_TASK)
    def deliver(self, job_id: str, attempt: int) -> None:
        delay_s = self._services.sender.deliver(str(job_id), int(attempt))
        if delay_s is not None:
            self._services.enqueue(job_id, int(attempt) + 1, countdown=delay_s)


def job_consumer_deployment(jobs: JobOptions):
    config = task_processor_config(jobs, analysis_queue(jobs))
    return serve.deployment(name="JobConsumer", ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=1)(
        task_consumer(task_processor_config=config)(JobConsumer)
    )


def webhook_sender_deployment(jobs: JobOptions):
    config = task_processor_config(jobs, webhook_queue(jobs))
    return serve.deployment(name="WebhookSender", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=4)(
        task_consumer(task_processor_config=config)(WebhookSender)
    )
