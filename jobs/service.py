"""The job API's work behind the ingress's routes: submit (idempotently), read, list, cancel; and the owners' webhook
signing secrets. Blocking (database, DNS, the video store, the broker): the ingress calls it from worker threads.

A submission is checked before it costs anything it can be refused for: the Idempotency-Key first (a replay answers
with the stored job, a key reused for another request is refused), then the owner's active jobs, room for its
`subject` (subjects.max_subjects_per_owner), the webhook URL
(the SSRF guard) and secret; only then is the upload kept in the video store (within the owner's quota), the job
stored, and its id put on the task queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from softskills.jobs.errors import (
    IdempotencyKeyReused,
    JobQueueUnavailable,
    JobUploadRefused,
    TooManyActiveJobs,
    WebhookSecretMissing,
)
from softskills.jobs.runner import JobRequest, drop_upload
from softskills.jobs.store import DuplicateIdempotencyKey, JobRecord, JobStore, NewJob
from softskills.jobs.webhooks import SecretInfo, WebhookSecrets, check_url
from softskills.storage.factory import VideoStorage
from softskills.storage.quota import StorageRefused
from softskills.subjects.store import SubjectStore

logger = logging.getLogger("ray.serve")


@dataclass(frozen=True)
class Submission:
    owner: str
    upload: BinaryIO
    request: JobRequest
    base_url: str
    webhook_url: str | None = None
    idempotency_key: str | None = None


@dataclass
class JobService:
    store: JobStore
    videos: VideoStorage  # jobs need a video store
    secrets: WebhookSecrets
    enqueue: Callable[[str], None]  # puts a job's id on the task queue
    max_active_per_owner: int
    upload_ttl_s: int
    idempotency_ttl: timedelta
    retention: timedelta
    rotation_grace: timedelta
    allowed_networks: tuple[str, ...]
    retry_after_s: int
    subjects: SubjectStore  # a job naming one subject too many is refused at submission
    max_subjects_per_owner: int

    def submit(self, submission: Submission) -> tuple[JobRecord, bool]:
        """(the job, whether it is an earlier submission's answer replayed for the same Idempotency-Key)."""
        from softskills.models.media.decode import sniff_container

        s = submission
        sniff_container(s.upload)  # not a supported video: 415 before anything else (DNS, the store)
        request_hash = _request_hash(s) if s.idempotency_key is not None else None
        if s.idempotency_key is not None:
            earlier = self.store.find_by_idempotency_key(s.owner, s.idempotency_key)
            if earlier is not None:
                return _replayed(earlier, request_hash)
        if self.store.active_count(s.owner) >= self.max_active_per_owner:
            raise TooManyActiveJobs(self.max_active_per_owner, self.retry_after_s)
        if s.request.input.subject is not None:
            self.subjects.check_room(s.owner, s.request.input.subject, self.max_subjects_per_owner)
        if s.webhook_url is not None:
            check_url(s.webhook_url, self.allowed_networks)
            if self.secrets.info(s.owner) is None:
                raise WebhookSecretMissing()
        try:
            kept = self.videos.keep_upload(s.upload, s.owner, self.upload_ttl_s)
        except StorageRefused as refused:
            raise JobUploadRefused(refused.reason) from None
        new = NewJob(
            owner=s.owner,
            analysis=s.request.analysis,
            request=s.request.to_json(),
            base_url=s.base_url,
            upload_object=kept.object_id,
            upload_reservation=kept.reservation,
            webhook_url=s.webhook_url,
            idempotency_key=s.idempotency_key,
            request_hash=request_hash,
        )
        try:
            job = self.store.create(new, self.idempotency_ttl)
        except DuplicateIdempotencyKey:  # a parallel request with the same key was stored first
            self.videos.discard_upload(kept.object_id, kept.reservation)
            return _replayed(self.store.find_by_idempotency_key(s.owner, s.idempotency_key), request_hash)
        try:
            self.enqueue(job.id)
        except Exception as exc:
            logger.error("could not enqueue job %s: %s", job.id, type(exc).__name__)
            self.store.delete_unqueued(job.id)
            self.videos.discard_upload(kept.object_id, kept.reservation)
            raise JobQueueUnavailable(self.retry_after_s) from None
        return job, False

    def get(self, owner: str, job_id: str) -> JobRecord:
        return self.store.get(owner, job_id)

    def list(self, owner: str, limit: int, cursor: str | None) -> tuple[list[JobRecord], bool]:
        return self.store.list(owner, limit, cursor)

    def cancel(self, owner: str, job_id: str) -> JobRecord:
        """A queued job will not start; a running one stops at its next heartbeat. Its upload goes now."""
        job = self.store.cancel(owner, job_id, self.retention)
        drop_upload(self.store, self.videos, job_id)
        return job

    def rotate_secret(self, owner: str) -> tuple[str, SecretInfo]:
        return self.secrets.rotate(owner, self.rotation_grace)

    def secret_info(self, owner: str) -> SecretInfo | None:
        return self.secrets.info(owner)


def _replayed(earlier: JobRecord | None, request_hash: str) -> tuple[JobRecord, bool]:
    if earlier is None or earlier.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return earlier, True


def _request_hash(s: Submission) -> str:
    """SHA-256 over everything the job would do: its fields, its webhook and the video's bytes."""
    digest = hashlib.sha256(json.dumps([s.request.to_json(), s.webhook_url], sort_keys=True).encode())
    s.upload.seek(0)
    for block in iter(lambda: s.upload.read(1024 * 1024), b""):
        digest.update(block)
    s.upload.seek(0, os.SEEK_SET)
    return digest.hexdigest()
