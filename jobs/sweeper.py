"""What the consumer replicas do between deliveries, every `sweep_interval_s`: put back on the queue the jobs and
webhook attempts whose message may be lost (their worker died, or the broker forgot them), fail jobs whose upload
outlived its lifetime, delete the uploads of finished jobs, and delete finished jobs past their retention. Every
replica sweeps; the store's conditional updates let one of them take each item."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from softskills.jobs.runner import UPLOAD_GONE_DETAIL, drop_upload
from softskills.jobs.store import JobStore
from softskills.storage.factory import VideoStorage
from softskills.storage.janitor import Janitor

logger = logging.getLogger("ray.serve")


@dataclass
class Sweeper:
    store: JobStore
    videos: VideoStorage
    enqueue_job: Callable[[str], None]
    enqueue_webhook: Callable[[str, int], None]  # (job id, attempt)
    lease_timeout: timedelta
    requeue_after: timedelta
    upload_ttl: timedelta
    retention: timedelta
    housekeeping: Callable[[], int] = lambda: 0  # the broker's own leftovers (jobs/queue.py), how many went

    def sweep(self) -> dict[str, int]:
        """One pass; how many of each it handled (for the log and the tests)."""
        counts = {
            "requeued": 0,
            "webhooks": 0,
            "expired": 0,
            "uploads": 0,
            "purged": 0,
            "broker_leftovers": self.housekeeping(),
        }
        for job_id in self.store.jobs_to_enqueue(self.lease_timeout, self.requeue_after):
            self.enqueue_job(job_id)
            counts["requeued"] += 1
        for job_id, attempt in self.store.webhooks_to_enqueue(self.lease_timeout):
            self.enqueue_webhook(job_id, attempt)
            counts["webhooks"] += 1
        for job_id in self.store.expired_uploads(self.upload_ttl):
            expired = self.store.expire_queued(job_id, UPLOAD_GONE_DETAIL, self.retention)
            if expired is not None:
                counts["expired"] += 1
                if expired.webhook_url is not None:
                    self.enqueue_webhook(job_id, 1)
        for job_id in self.store.finished_with_uploads():
            drop_upload(self.store, self.videos, job_id)
            counts["uploads"] += 1
        counts["purged"] = self.store.purge_expired()
        return counts

    def start(self, interval_s: float) -> threading.Event:
        """Sweeps on a daemon thread until the returned event is set."""
        stopped = threading.Event()

        def loop():
            while not stopped.wait(interval_s):
                try:
                    counts = self.sweep()
                    if any(counts.values()):
                        logger.info("job sweep: %s", counts)
                except Exception as exc:  # a database or broker hiccup must not end the loop
                    logger.warning("job sweep failed: %s", type(exc).__name__)

        threading.Thread(target=loop, name="job-sweeper", daemon=True).start()
        return stopped


def start_retention_purge(store: JobStore, interval_s: float, *others: Callable[[], int]) -> Janitor:
    """Finished jobs and dashboard reports are deleted `jobs.retention_s` after they finished (their `expires_at`),
    looked for every `interval_s` (`jobs.sweep_interval_s`) by each ingress replica, whatever is enabled: the
    consumers' sweep deletes them too, but there is none when jobs are off, and the dashboard keeps reports either
    way. `others` purge other records past their retention on the same schedule (the subjects' sessions)."""
    return Janitor(
        lambda: store.purge_expired() + sum(purge() for purge in others), interval_s, "records past retention"
    ).start()
