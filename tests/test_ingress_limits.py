"""The HTTP layer's admission gate and streaming size limit, and the logging of unexpected errors, without Ray
(plain asyncio)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ray.serve import context

from softskills.deployments.errors import BodyTooLarge, Overloaded, answer_for, log_unexpected
from softskills.deployments.http_limits import Admission, limited_receive


def test_admission_runs_active_queues_waiting_and_refuses_the_rest():
    async def burst():
        gate = Admission(active=1, waiting=2, retry_after_s=7)
        release = asyncio.Event()
        running = []

        async def one(i):
            async with gate.slot():
                running.append(i)
                await release.wait()
            return i

        tasks = [asyncio.create_task(one(i)) for i in range(5)]
        await asyncio.sleep(0.01)
        assert running == [0]  # one runs, two wait, two are already answered
        release.set()
        return running, await asyncio.gather(*tasks, return_exceptions=True)

    running, results = asyncio.run(burst())
    assert running == [0, 1, 2]
    assert results[:3] == [0, 1, 2]
    for refused in results[3:]:
        assert isinstance(refused, Overloaded)
        status, detail, headers = answer_for(refused)
        assert status == 503 and headers == {"Retry-After": "7"} and "Retry-After" in detail


def test_admission_frees_its_slot_when_the_request_fails():
    async def failing_then_ok():
        gate = Admission(active=1, waiting=0, retry_after_s=1)
        with pytest.raises(RuntimeError):
            async with gate.slot():
                raise RuntimeError("analysis failed")
        async with gate.slot():
            return "admitted"

    assert asyncio.run(failing_then_ok()) == "admitted"


def test_limited_receive_stops_the_body_at_the_limit():
    def messages(chunks):
        queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

        async def receive():
            return queue.pop(0)

        return receive

    async def read_all(receive):
        received = b""
        while True:
            message = await receive()
            received += message["body"]
            if not message["more_body"]:
                return received

    assert asyncio.run(read_all(limited_receive(messages([b"a" * 60, b"b" * 40]), 100))) == b"a" * 60 + b"b" * 40
    with pytest.raises(BodyTooLarge):
        asyncio.run(read_all(limited_receive(messages([b"a" * 60, b"b" * 41, b"c" * 1000]), 100)))


def test_an_unexpected_error_is_logged_with_its_traceback_and_request_id(caplog):
    async def in_request():
        context._set_request_context(request_id="req-1234")
        try:
            {}["speaking_time_s"] / 60
        except Exception as exc:
            log_unexpected("analysis failed", exc)

    with caplog.at_level(logging.ERROR, logger="ray.serve"):
        asyncio.run(in_request())
    (record,) = caplog.records
    assert record.getMessage() == "analysis failed (request req-1234): KeyError"
    assert "Traceback" in caplog.text and "in_request" in caplog.text
