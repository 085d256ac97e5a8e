"""The HTTP layer's bounds without Ray (plain asyncio): the admission gate, the streaming size limit, the form
fields' own bounds, what /openapi.json says of them, and the logging of unexpected errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ray.serve import context
from starlette.datastructures import FormData, Headers, UploadFile

from softskills.deployments.config import IngressOptions
from softskills.deployments.errors import BodyTooLarge, InvalidRequest, Overloaded, answer_for, log_unexpected
from softskills.deployments.form_fields import parse_analysis_request
from softskills.deployments.http_limits import Admission, limited_receive
from softskills.deployments.openapi import _FIELDS


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


# The form fields' own bounds, checked before any work, and what /openapi.json says of them.

def _form(**fields: str) -> FormData:
    video = UploadFile(file=__import__("io").BytesIO(b"video"), filename="talk.mp4", headers=Headers())
    return FormData([("video", video), *fields.items()])


@pytest.mark.parametrize("field, limit", [("context_phrase", 1000), ("sessionId", 200)])
def test_context_phrase_and_session_id_have_their_own_bound(field, limit):
    _, session_id, analysis_input = parse_analysis_request(_form(**{field: "a" * limit}), IngressOptions())
    assert (session_id if field == "sessionId" else analysis_input.context_phrase) == "a" * limit
    with pytest.raises(InvalidRequest) as refused:
        parse_analysis_request(_form(**{field: "a" * (limit + 1)}), IngressOptions())
    assert answer_for(refused.value)[:2] == (422, f"Field '{field}' is longer than {limit} characters (the limit).")
    tighter = IngressOptions(max_context_phrase_chars=10, max_session_id_chars=10)
    with pytest.raises(InvalidRequest, match="longer than 10 characters"):
        parse_analysis_request(_form(**{field: "a" * 11}), tighter)


def test_the_openapi_document_states_the_fields_bounds():
    options = IngressOptions()
    assert _FIELDS["context_phrase"]["maxLength"] == options.max_context_phrase_chars == 1000
    assert _FIELDS["sessionId"]["maxLength"] == options.max_session_id_chars == 200
    assert _FIELDS["speakers_expected"] == {"type": "integer", "minimum": 1, "maximum": 8,
                                            "description": _FIELDS["speakers_expected"]["description"]}
    assert _FIELDS["speaker"]["enum"] == ["auto", "everyone", "1", "2", "3", "4", "5", "6", "7", "8"]
