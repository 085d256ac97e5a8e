"""The job consumers: Ray Serve's asynchronous inference (`@task_consumer` deployments fed by Celery through the task
processor adapter; jobs/queue.py has the broker).

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
import logging
import threading
from datetime import timedelta

from ray import serve
from ray.serve.handle import DeploymentHandle
from ray.serve.task_consumer import task_consumer, task_handler

from softskills.deployments.config import IngressOptions, JobOptions
from softskills.jobs.queue import ANALYZE_TASK, WEBHOOK_TASK, prune_embedded_broker

logger = logging.getLogger("ray.serve")
PIDBOX_LEFTOVER_S = 300  # a remote-control message still unread after this is addressed to a worker that is gone


class AttemptFailed(Exception):
    """Raised to the task queue so that it retries the job after its back-off (the job is queued again)."""


def enqueuer(options: JobOptions, queue_name: str, max_retries: int, task_name: str):
    """A thread-safe enqueue of `task_name` tasks on a queue, through Ray Serve's task processor adapter."""
    from ray.serve.task_consumer import instantiate_adapter_from_config

    adapter = instantiate_adapter_from_config(_config(options, queue_name, max_retries))
    lock = threading.Lock()

    def enqueue(*args, **options) -> None:
        with lock:
            adapter.enqueue_task_sync(task_name, args=list(args), **options)

    return enqueue


def classify_failure(exc: Exception) -> tuple[int, str]:
    """The job's error from the API's one error table; an unexpected one is logged with its traceback."""
    from softskills.deployments.errors import SERVICE_ERROR_DETAIL, answer_for

    found = answer_for(exc)
    if found is None:
        logger.error("job analysis failed: %s", type(exc).__name__, exc_info=exc)
        return 500, SERVICE_ERROR_DETAIL
    return found[0], found[1]


class JobConsumer:
    def __init__(self, speech: DeploymentHandle, face: DeploymentHandle, engine: DeploymentHandle,
                 ingress: dict, jobs: dict):
        from softskills.auth.store import database_url
        from softskills.deployments.analysis import answer_body, model_stages
        from softskills.deployments.metrics import observe_stage
        from softskills.jobs.runner import JobRunner, RunOptions
        from softskills.jobs.store import JobStore
        from softskills.jobs.sweeper import Sweeper
        from softskills.models.pipeline import Pipeline
        from softskills.storage.factory import start_video_store

        self._loop = asyncio.get_running_loop()  # the replica's loop: the handler threads run analyses on it
        opts, job_opts = IngressOptions(**ingress), JobOptions(**jobs)
        store, videos = JobStore(database_url()), start_video_store(opts.storage)
        self._enqueue_job = enqueuer(job_opts, job_opts.queue_name, job_opts.max_attempts - 1, ANALYZE_TASK)
        self._enqueue_webhook = enqueuer(job_opts, job_opts.webhook_queue_name, 0, WEBHOOK_TASK)
        lease = timedelta(seconds=job_opts.lease_timeout_s)
        retention = timedelta(seconds=job_opts.retention_s)
        self._runner = JobRunner(
            store=store, videos=videos, classify=classify_failure, notify=self._notify,
            pipeline=Pipeline(model_stages(speech, face, engine, opts.retry_after_s), opts.pipeline_options(),
                              observe=observe_stage),
            answer=lambda analysis, request: answer_body(analysis, request.analysis == "full-analysis",
                                                         request.session_id),
            options=RunOptions(job_opts.max_attempts, job_opts.job_timeout_s, job_opts.heartbeat_s, lease,
                               retention))
        self._store = store
        self._sweeping = Sweeper(store, videos, self._enqueue_job, self._enqueue_webhook, lease,
                                 timedelta(seconds=job_opts.requeue_after_s), timedelta(seconds=job_opts.upload_ttl_s),
                                 retention, lambda: prune_embedded_broker(job_opts.broker_url, PIDBOX_LEFTOVER_S)
                                 ).start(job_opts.sweep_interval_s)

    @task_handler(name=ANALYZE_TASK)
    def analyze_job(self, job_id: str) -> str:
        from softskills.jobs.runner import Outcome

        outcome, detail = asyncio.run_coroutine_threadsafe(self._runner.run(str(job_id)), self._loop).result()
        if outcome is Outcome.RETRY:
            raise AttemptFailed(detail)
        return outcome.value

    async def _notify(self, job) -> None:
        """A finished job with a webhook URL: its first delivery attempt goes on the webhook queue."""
        if job.webhook_url is None:
            return
        try:
            await asyncio.to_thread(self._enqueue_webhook, job.id, 1)
            await asyncio.to_thread(self._store.mark_webhook_enqueued, job.id)
        except Exception as exc:  # the sweep enqueues it once it is overdue
            logger.warning("could not enqueue job %s's webhook: %s", job.id, type(exc).__name__)

    def __del__(self):
        sweeping = getattr(self, "_sweeping", None)
        if sweeping is not None:
            sweeping.set()


class WebhookSender:
    def __init__(self, ingress: dict, jobs: dict):
        from softskills.auth.store import KeyStore, database_url
        from softskills.jobs.store import JobStore
        from softskills.jobs.webhooks import Backoff, SecretBox, WebhookSecrets
        from softskills.jobs.webhooks import WebhookSender as Sender

        opts, job_opts = IngressOptions(**ingress), JobOptions(**jobs)
        w, url = job_opts.webhooks, database_url()
        self._sender = Sender(
            store=JobStore(url), secrets=WebhookSecrets(url, SecretBox(KeyStore(url).pepper)),
            backoff=Backoff(w.max_attempts, w.first_retry_s, w.backoff_factor, w.max_retry_delay_s),
            timeout_s=w.timeout_s, allowed_networks=w.allowed_networks,
            lease_timeout=timedelta(seconds=job_opts.lease_timeout_s),
            public_base_url=opts.storage.public_base_url)
        self._enqueue = enqueuer(job_opts, job_opts.webhook_queue_name, 0, WEBHOOK_TASK)

    @task_handler(name=WEBHOOK_TASK)
    def deliver(self, job_id: str, attempt: int) -> None:
        delay_s = self._sender.deliver(str(job_id), int(attempt))
        if delay_s is not None:
            self._enqueue(job_id, int(attempt) + 1, countdown=delay_s)


def job_consumer_deployment(options: JobOptions):
    config = _config(options, options.queue_name, options.max_attempts - 1)
    return serve.deployment(name="JobConsumer", ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=1)(
        task_consumer(task_processor_config=config)(JobConsumer))


def webhook_sender_deployment(options: JobOptions):
    config = _config(options, options.webhook_queue_name, 0)
    return serve.deployment(name="WebhookSender", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=4)(
        task_consumer(task_processor_config=config)(WebhookSender))


def _config(options: JobOptions, queue_name: str, max_retries: int):
    from softskills.jobs.queue import task_processor_config

    return task_processor_config(options.broker_url, options.result_backend_url, queue_name, max_retries)
