"""Ray Serve's side of the job queues: each queue's TaskProcessorConfig, made from jobs/queue.py's Celery settings,
and a thread-safe enqueue through Ray Serve's task processor adapter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ray.serve.schema import CeleryAdapterConfig, TaskProcessorConfig

from softskills.config.options import JobOptions
from softskills.jobs.queue import ANALYZE_TASK, WEBHOOK_TASK, celery_settings


@dataclass(frozen=True)
class Queue:
    name: str
    max_retries: int  # deliveries after the first that the task queue makes of a failed task
    task: str


def analysis_queue(jobs: JobOptions) -> Queue:
    """Analyses: a server-side failure is retried until `jobs.max_attempts` have started."""
    return Queue(jobs.queue_name, jobs.max_attempts - 1, ANALYZE_TASK)


def webhook_queue(jobs: JobOptions) -> Queue:
    """Webhook attempts: each failed one enqueues the next itself, after its back-off."""
    return Queue(jobs.webhook_queue_name, 0, WEBHOOK_TASK)


def task_processor_config(jobs: JobOptions, queue: Queue) -> TaskProcessorConfig:
    settings = celery_settings(jobs.broker_url, jobs.result_backend_url)
    return TaskProcessorConfig(
        queue_name=queue.name,
        max_retries=queue.max_retries,
        adapter_config=CeleryAdapterConfig(
            broker_url=settings.broker_url,
            backend_url=settings.backend_url,
            broker_transport_options=settings.broker_transport_options,
            app_custom_config=settings.app_config,
            task_custom_config=settings.task_config,
        ),
    )


def enqueuer(jobs: JobOptions, queue: Queue) -> Callable[..., None]:
    """Puts `queue.task` tasks on the queue (thread-safe): `enqueue(*args, countdown=...)`."""
    from ray.serve.task_consumer import instantiate_adapter_from_config

    adapter = instantiate_adapter_from_config(task_processor_config(jobs, queue))
    lock = threading.Lock()

    def enqueue(*args, **options) -> None:
        with lock:
            adapter.enqueue_task_sync(queue.task, args=list(args), **options)

    return enqueue
