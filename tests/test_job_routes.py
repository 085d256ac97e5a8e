"""The job routes' own checks, without Ray: the Idempotency-Key header's bounds, and jobs switched off (by the
config, or by a video store that is off) answering 404 with the reason."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from softskills.deployments.config import IngressOptions, JobOptions
from softskills.deployments.errors import InvalidRequest, answer_for
from softskills.deployments.http_limits import Uploads
from softskills.deployments.job_routes import STORAGE_OFF_DETAIL, JobRoutes, _idempotency_key
from softskills.jobs.errors import JobsOff


def request(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> Request:
    return Request({"type": "http", "method": "POST", "path": "/api/v1/jobs", "headers": headers,
                    "query_string": query})


@pytest.mark.parametrize("values", [[b""], [b"k" * 256], ["ключ".encode()], [b"a\x07b"], [b"one", b"two"]])
def test_a_bad_idempotency_key_is_refused(values):
    with pytest.raises(InvalidRequest, match="Idempotency-Key"):
        _idempotency_key(request([(b"idempotency-key", value) for value in values]))


def test_a_good_idempotency_key_is_taken_as_sent():
    assert _idempotency_key(request([(b"idempotency-key", b" order-42:retry 1 ")])) == "order-42:retry 1"
    assert _idempotency_key(request([])) is None


@pytest.mark.parametrize("options, videos, reason", [
    (JobOptions(enabled=False), object(), "Jobs are off on this server."),
    (JobOptions(), None, STORAGE_OFF_DETAIL),
])
def test_jobs_off_answer_404_with_the_reason(options, videos, reason):
    routes = JobRoutes(IngressOptions(), options, videos, Uploads(IngressOptions()))

    async def never_authenticated(req):
        raise AssertionError("jobs that are off are refused before the key is checked")

    for call in (routes.list(request([]), never_authenticated),
                 routes.get(request([]), never_authenticated, "job_" + "a" * 22)):
        with pytest.raises(JobsOff) as refused:
            asyncio.run(call)
        assert answer_for(refused.value)[:2] == (404, reason)
