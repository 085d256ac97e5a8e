"""The task queue's broker for Ray Serve's asynchronous inference (`ray.serve.task_consumer` with its Celery
adapter): which broker, and the Celery settings each queue's TaskProcessorConfig is made from (deployments/
task_queue.py: Ray's side stays there, so jobs/ is Ray-free).

The broker is `jobs.broker_url`, else $SOFTSKILLS_BROKER_URL (production: Redis, e.g. redis://host:6379/0), else the
embedded broker: kombu's filesystem transport, made crash-safe (jobs/embedded_broker.py), in <data dir>/jobs/queue,
written `filesystem:///that/dir`, which needs no service and keeps queued messages across restarts on one machine.
Messages carry only a job's id; the job itself, its lease and its result are rows in the key store's database
(jobs/store.py), which is what makes a redelivered or lost message harmless.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from softskills.db.files import create_private_dir

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


@dataclass(frozen=True)
class CelerySettings:
    """How a Celery app reaches the broker and what it keeps: Ray Serve's Celery adapter is configured from these
    (deployments/task_queue.py)."""

    broker_url: str
    backend_url: str
    broker_transport_options: dict | None
    app_config: dict
    task_config: dict


def celery_settings(broker_url: str, backend_url: str) -> CelerySettings:
    """The settings of one broker, its folders prepared (private) when it is the embedded one. Results are not kept in
    the backend (the database has them); one message is taken at a time per consumer thread, so a killed replica holds
    no more than it was running."""
    transport_options, embedded = None, {}
    if broker_url.startswith(EMBEDDED_SCHEME):
        from softskills.jobs.embedded_broker import prepare_folder

        folder = prepare_folder(create_private_dir(Path(broker_url[len(EMBEDDED_SCHEME) :])))
        prepare_folder(folder / "control")
        transport_options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        }
        broker_url, embedded = EMBEDDED_SCHEME, {"broker_transport": EMBEDDED_TRANSPORT}
    if backend_url.startswith("file://"):
        create_private_dir(Path(backend_url[len("file://") :]))
    return CelerySettings(
        broker_url=broker_url,
        backend_url=backend_url,
        broker_transport_options=transport_options,
        app_config={
            "worker_prefetch_multiplier": 1,
            "worker_hijack_root_logger": False,
            "broker_connection_retry_on_startup": True,
            "worker_log_color": False,
            **embedded,
        },
        task_config={"ignore_result": True},
    )


def prune_embedded_broker(broker_url: str, older_than_s: float) -> int:
    """Housekeeping of the embedded broker, for what is older than `older_than_s`: remote-control messages nobody
    will read (Celery broadcasts a shutdown to every worker of a replica that stops, and the filesystem transport
    leaves a file for each worker that was gone before it read it), and what crashed writers and readers left
    (jobs/embedded_broker.py). Nothing for other brokers. Returns how many went."""
    import time

    from softskills.jobs.embedded_broker import prune_leftovers

    if not broker_url.startswith(EMBEDDED_SCHEME):
        return 0
    folder, cutoff, deleted = Path(broker_url[len(EMBEDDED_SCHEME) :]), time.time() - older_than_s, 0
    for path in folder.glob("*.celery.pidbox.msg"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # read or deleted by someone else meanwhile
            pass
    return deleted + prune_leftovers(folder, older_than_s)
