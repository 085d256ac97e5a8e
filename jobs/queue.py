"""The task queue's configuration for Ray Serve's asynchronous inference (`ray.serve.task_consumer` with its Celery
adapter): which broker, and the TaskProcessorConfig of each queue.

The broker is `jobs.broker_url`, else $SOFTSKILLS_BROKER_URL (production: Redis, e.g. redis://host:6379/0), else the
embedded broker: kombu's filesystem transport, made crash-safe (jobs/embedded_broker.py), in <data dir>/jobs/queue,
written `filesystem:///that/dir`, which needs no service and keeps queued messages across restarts on one machine.
Messages carry only a job's id; the job itself, its lease and its result are rows in the key store's database
(jobs/store.py), which is what makes a redelivered or lost message harmless.
"""

from __future__ import annotations

import os
from pathlib import Path

from softskills.auth.hashing import create_private_dir

BROKER_URL_ENV = "SOFTSKILLS_BROKER_URL"
RESULT_BACKEND_URL_ENV = "SOFTSKILLS_RESULT_BACKEND_URL"
EMBEDDED_SCHEME = "filesystem://"
ANALYZE_TASK = "softskills.analyze_job"
WEBHOOK_TASK = "softskills.deliver_webhook"
EMBEDDED_TRANSPORT = "softskills.jobs.embedded_broker:Transport"


def resolve_broker(broker_url: str | None, result_backend_url: str | None, data_dir: Path) -> tuple[str, str]:
    """(broker, result backend) from the config, else the environment, else the embedded filesystem broker."""
    jobs_dir = Path(data_dir).resolve() / "jobs"
    broker = broker_url or os.environ.get(BROKER_URL_ENV) or f"{EMBEDDED_SCHEME}{jobs_dir / 'queue'}"
    backend = result_backend_url or os.environ.get(RESULT_BACKEND_URL_ENV)
    if backend is None:
        backend = broker if broker.startswith(("redis://", "rediss://")) else f"file://{jobs_dir / 'results'}"
    return broker, backend


def task_processor_config(broker_url: str, backend_url: str, queue_name: str, max_retries: int):
    """The TaskProcessorConfig of one queue. Results are not kept in the backend (the database has them); one
    message is taken at a time per consumer thread, so a killed replica holds no more than it was running."""
    from ray.serve.schema import CeleryAdapterConfig, TaskProcessorConfig

    transport_options, embedded = None, {}
    if broker_url.startswith(EMBEDDED_SCHEME):
        from softskills.jobs.embedded_broker import prepare_folder

        folder = prepare_folder(create_private_dir(Path(broker_url[len(EMBEDDED_SCHEME):])))
        prepare_folder(folder / "control")
        transport_options = {"data_folder_in": str(folder), "data_folder_out": str(folder),
                             "control_folder": str(folder / "control")}
        broker_url, embedded = EMBEDDED_SCHEME, {"broker_transport": EMBEDDED_TRANSPORT}
    if backend_url.startswith("file://"):
        create_private_dir(Path(backend_url[len("file://"):]))
    return TaskProcessorConfig(
        queue_name=queue_name, max_retries=max_retries,
        adapter_config=CeleryAdapterConfig(
            broker_url=broker_url, backend_url=backend_url, broker_transport_options=transport_options,
            app_custom_config={"worker_prefetch_multiplier": 1, "worker_hijack_root_logger": False,
                               "broker_connection_retry_on_startup": True, "worker_log_color": False, **embedded},
            task_custom_config={"ignore_result": True}))


def prune_embedded_broker(broker_url: str, older_than_s: float) -> int:
    """Housekeeping of the embedded broker, for what is older than `older_than_s`: remote-control messages nobody
    will read (Celery broadcasts a shutdown to every worker of a replica that stops, and the filesystem transport
    leaves a file for each worker that was gone before it read it), and what crashed writers and readers left
    (jobs/embedded_broker.py). Nothing for other brokers. Returns how many went."""
    import time

    from softskills.jobs.embedded_broker import prune_leftovers

    if not broker_url.startswith(EMBEDDED_SCHEME):
        return 0
    folder, cutoff, deleted = Path(broker_url[len(EMBEDDED_SCHEME):]), time.time() - older_than_s, 0
    for path in folder.glob("*.celery.pidbox.msg"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # read or deleted by someone else meanwhile
            pass
    return deleted + prune_leftovers(folder, older_than_s)
