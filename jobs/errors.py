"""Errors of the job API. api/errors.py maps each to its status and `{"detail": ...}` body; `str(error)` is
safe to show to the API user."""


class JobError(Exception):
    """Base class."""


class JobNotFound(JobError):
    """No such job for this owner: another owner's job looks exactly like one that does not exist."""

    def __init__(self):
        super().__init__("No such job.")


class JobsOff(JobError):
    def __init__(self, reason: str = "Jobs are off on this server."):
        super().__init__(reason)


class JobAlreadyFinished(JobError):
    def __init__(self, status: str):
        super().__init__(
            f"The job has already {'been cancelled' if status == 'cancelled' else status}; only a "
            "queued or running job can be cancelled."
        )


class IdempotencyKeyReused(JobError):
    def __init__(self):
        super().__init__(
            "This Idempotency-Key was used with a different request in the last 24 hours; use a new "
            "key for a new request."
        )


class TooManyActiveJobs(JobError):
    def __init__(self, limit: int, retry_after_s: int):
        super().__init__(
            f"This account already has {limit} jobs queued or running (the limit); retry when one has finished."
        )
        self.retry_after_s = retry_after_s


class JobUploadRefused(JobError):
    """The video store would not keep the upload (a quota, low disk); the reason says which."""


class JobQueueUnavailable(JobError):
    def __init__(self, retry_after_s: int):
        super().__init__("The job queue is unavailable; retry shortly.")
        self.retry_after_s = retry_after_s


class WebhookSecretMissing(JobError):
    def __init__(self):
        super().__init__(
            "Create a webhook signing secret first (POST /api/v1/webhooks/secret): every delivery is signed with it."
        )


class WebhookSecretUnreadable(JobError):
    """Recorded on a delivery attempt: the owner's secret was sealed under a pepper the server no longer has."""

    def __init__(self):
        super().__init__(
            "The webhook signing secret can no longer be read (the server's key pepper changed); create "
            "a new one (POST /api/v1/webhooks/secret)."
        )


class WebhookUrlRefused(JobError):
    """The webhook URL is not http(s), malformed, or resolves to an address the server may not call."""


class JobTimedOut(JobError):
    def __init__(self, limit_s: float):
        super().__init__(f"The analysis took longer than the job limit of {limit_s:g} s. Try a shorter video.")
        self.limit_s = limit_s
