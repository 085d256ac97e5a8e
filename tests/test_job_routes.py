"""The job routes' own checks, without Ray: the Idempotency-Key header's bounds, and jobs switched off (by the
config, or by a video store that is off) answering 404 with the reason."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from softskills.api.errors import InvalidRequest, answer_for
from softskills.api.intake import Intake
from softskills.api.limits import Admission, Uploads
from softskills.api.routes.jobs import STORAGE_OFF_DETAIL, JobRoutes, _idempotency_key, jobs_off_reason
from softskills.config.options import HttpOptions, JobOptions
from softskills.jobs.errors import JobsOff


def request(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "POST", "path": "/api/v1/jobs", "headers": headers, "query_string": query}
    )


@pytest.mark.parametrize("values", [[b""], [b"k" * 256], ["ключ".encode()], [b"a\x07b"], [b"one", b"two"]])
def test_a_bad_idempotency_key_is_refused(values):
    with pytest.raises(InvalidRequest, match="Idempotency-Key"):
        _idempotency_key(request([(b"idempotency-key", value) for value in values]))


def test_a_good_idempotency_key_is_taken_as_sent():
    assert _idempotency_key(request([(b"idempotency-key", b" order-42:retry 1 ")])) == "order-42:retry 1"
    assert _idempotency_key(request([])) is None


@pytest.mark.parametrize(
    "options, videos, reason",
    [
        (JobOptions(enabled=False), object(), "Jobs are off on this server."),
        (JobOptions(), None, STORAGE_OFF_DETAIL),
    ],
)
def test_jobs_off_answer_404_with_the_reason(options, videos, reason):
    class NeverAuthenticated:
        async def owner(self, req):
            raise AssertionError("jobs that are off are refused before the key is checked")

    intake = Intake(HttpOptions(), False, NeverAuthenticated(), Uploads(HttpOptions()), lambda *observed: None)
    routes = JobRoutes(None, jobs_off_reason(options, videos), intake, Admission(1, 1, 10))

    for call in (routes.list(request([])), routes.get(request([]), "job_" + "a" * 22)):
        with pytest.raises(JobsOff) as refused:
            asyncio.run(call)
        assert answer_for(refused.value)[:2] == (404, reason)
