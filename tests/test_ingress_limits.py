"""The HTTP layer's bounds without Ray (plain asyncio): the admission gate, the upload slots (in all and per
owner), the streaming size limit and minimum rate, the form fields' own bounds, what /openapi.json says of them,
and the logging of unexpected errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ray.serve import context
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.requests import Request

from softskills.api.errors import (
    BodyTooLarge,
    InvalidRequest,
    Overloaded,
    TooManyUploads,
    UploadsFull,
    UploadTooSlow,
    answer_for,
    log_unexpected,
)
from softskills.api.limits import Admission, MinimumRate, RateMeter, Uploads, limited_receive
from softskills.api.openapi import ERROR_RESPONSES, JOB_ERROR_RESPONSES
from softskills.api.request_fields import ANALYSIS, form_schema, parse_analysis_request
from softskills.config.options import HttpOptions


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


def test_a_full_admission_refuses_before_anything_is_read():
    async def full():
        gate = Admission(active=1, waiting=0, retry_after_s=3)
        gate.refuse_if_full()  # room: nothing happens
        async with gate.slot():
            with pytest.raises(Overloaded):
                gate.refuse_if_full()

    asyncio.run(full())


# The minimum upload rate: consecutive windows after a grace period, each bringing at least rate x window bytes.

RATE = MinimumRate(bytes_per_s=100, window_s=2, grace_s=3)


def test_the_rate_is_first_measured_after_the_grace_period():
    meter = RateMeter(RATE, started_s=0)
    meter.advance(2.9, 0)  # nothing at all during the grace period is no fault yet
    meter.advance(3.0, 0)  # the first window starts at 3 s with the bytes of the grace period set aside
    assert meter.seconds_to_boundary(3.5) == 1.5
    meter.advance(4.9, 0)
    with pytest.raises(UploadTooSlow) as slow:
        meter.advance(5.0, 199)  # 199 bytes in the window 3-5 s: one short of 100 bytes/s
    status, detail, headers = answer_for(slow.value)
    assert status == 408 and headers == {"Connection": "close"}
    assert detail == (
        "Upload slower than the minimum of 100 bytes per second (averaged over 2 s); send it over a faster connection."
    )


def test_each_window_must_bring_its_share_whatever_came_before():
    meter = RateMeter(RATE, started_s=0)
    meter.advance(3.0, 10_000)  # a fast start in the grace period buys nothing later
    meter.advance(5.0, 10_200)  # exactly the minimum: 200 bytes in 2 s
    with pytest.raises(UploadTooSlow):
        meter.advance(7.0, 10_399)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 400)), min_size=1, max_size=30))
def test_the_meter_refuses_exactly_the_bodies_with_a_short_window(gaps_and_sizes):
    """Arrivals at whole seconds (exact in floating point), checked against the windows counted directly: the meter
    refuses by the last arrival if and only if a window that closed by then brought too little."""
    arrivals, now = [], 0
    for gap, size in gaps_and_sizes:
        now += gap
        arrivals.append((now, size))
    meter, received, refused = RateMeter(RATE, started_s=0), 0, False
    for at, size in arrivals:
        try:
            meter.advance(at, received)
        except UploadTooSlow:
            refused = True
            break
        received += size
    last = arrivals[-1][0]
    windows = range(int(RATE.grace_s), last - int(RATE.window_s) + 1, int(RATE.window_s))
    short = [
        start
        for start in windows
        if sum(size for at, size in arrivals if start <= at < start + RATE.window_s) < RATE.bytes_per_s * RATE.window_s
    ]
    assert refused == bool(short)


def _trickle(chunks: list[tuple[float, bytes]], then_wait: bool = False, hold: asyncio.Event | None = None):
    """An ASGI receive that hands over each chunk after its delay (the last one ends the body, once `hold` is set),
    then, if asked, waits as a server does for a disconnect."""
    queue = list(chunks)

    async def receive():
        if not queue:
            if then_wait:
                await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        delay_s, body = queue.pop(0)
        await asyncio.sleep(delay_s)
        if not queue and hold is not None:
            await hold.wait()
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    return receive


async def _read_body(receive) -> bytes:
    received = b""
    while True:
        message = await receive()
        received += message["body"]
        if not message["more_body"]:
            return received


FAST_RATE = MinimumRate(bytes_per_s=1000, window_s=0.2, grace_s=0.1)


def test_a_body_that_stops_sending_is_dropped_within_grace_and_one_window():
    """Nothing arrives after the first bytes: the wait is cut at the window's end, not when a byte next comes."""

    async def stalled():
        receive = limited_receive(_trickle([(0, b"x" * 10), (60, b"never")]), 10**6, min_rate=FAST_RATE)
        started = asyncio.get_running_loop().time()
        with pytest.raises(UploadTooSlow):
            await _read_body(receive)
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(stalled()) < 1.0


def test_a_steady_body_is_read_whole_across_windows_and_nothing_is_lost():
    """A message that arrives after a window check is the one waited on before it, not a lost one."""
    chunks = [(0.15, bytes([i]) * 300) for i in range(6)]  # 2000 bytes/s, each arriving after a window boundary

    async def steady():
        return await _read_body(limited_receive(_trickle(chunks), 10**6, min_rate=FAST_RATE))

    assert asyncio.run(steady()) == b"".join(body for _, body in chunks)


def test_a_complete_body_is_no_longer_timed():
    """After the last chunk, a receive waits for a disconnect however long: that is not a slow upload."""

    async def complete_then_wait():
        receive = limited_receive(_trickle([(0, b"x" * 500)], then_wait=True), 10**6, min_rate=FAST_RATE)
        assert await _read_body(receive) == b"x" * 500
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(receive(), timeout=0.6)

    asyncio.run(complete_then_wait())


# Upload slots: in all and per owner, refused before the body is read, free again once the body is in.

BOUNDARY = "limits-boundary"


def _upload_request(chunks: list[tuple[float, bytes]], hold: asyncio.Event | None = None) -> Request:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; filename="talk.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/analyze-video",
            "query_string": b"",
            "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
        },
        receive=_trickle([(0, head), *chunks, (0, tail)], hold=hold),
    )


SLOTS = HttpOptions(
    max_concurrent_uploads=3,
    max_uploads_per_owner=2,
    retry_after_s=9,
    min_upload_bytes_per_s=1000,
    upload_rate_window_s=0.2,
    upload_grace_s=0.1,
)


def test_one_owner_cannot_take_every_upload_slot():
    """Bodies still streaming hold their slots: a third of alice's is refused (429), bob still gets one, and a
    second of bob's finds every slot taken (503)."""

    async def uploads_at_once():
        uploads, streaming = Uploads(SLOTS.model_copy(update={"min_upload_bytes_per_s": 0})), asyncio.Event()

        async def upload(owner):
            async with uploads.form(_upload_request([(0, b"v" * 100)], hold=streaming), owner) as form:
                return len(await form["video"].read())

        alice = [asyncio.create_task(upload("alice")) for _ in range(3)]
        await asyncio.sleep(0.05)
        bob = [asyncio.create_task(upload("bob")) for _ in range(2)]
        await asyncio.sleep(0.05)
        streaming.set()
        return await asyncio.gather(*alice, *bob, return_exceptions=True)

    alice_1, alice_2, alice_3, bob_1, bob_2 = asyncio.run(uploads_at_once())
    assert (alice_1, alice_2) == (100, 100)
    assert answer_for(alice_3) == (
        429,
        "Too many uploads at once from this owner (the limit is 2). Retry after the "
        "number of seconds in the Retry-After header.",
        {"Retry-After": "9"},
    )
    assert isinstance(alice_3, TooManyUploads)
    assert bob_1 == 100  # another owner still gets a slot
    assert isinstance(bob_2, UploadsFull)
    status, detail, headers = answer_for(bob_2)
    assert status == 503 and headers == {"Retry-After": "9"}
    assert detail.startswith("The service is busy.") and "limit of 3 uploads" in detail


def test_an_upload_slot_is_free_once_the_body_is_in_and_after_a_failure():
    """The slot bounds receiving only: the work done with the spooled upload (an analysis) holds none, and a
    refused body (too slow, too large) gives its slot back."""
    one = SLOTS.model_copy(update={"max_concurrent_uploads": 1, "max_uploads_per_owner": 1, "max_upload_bytes": 1000})

    async def in_turn():
        uploads = Uploads(one)
        async with uploads.form(_upload_request([(0, b"v" * 10)]), "alice") as first:
            async with uploads.form(_upload_request([(0, b"w" * 10)]), "alice") as second:
                assert await first["video"].read() == b"v" * 10 and await second["video"].read() == b"w" * 10
        with pytest.raises(UploadTooSlow):
            async with uploads.form(_upload_request([(0, b"v"), (30, b"v")]), "alice"):
                pass
        with pytest.raises(BodyTooLarge):
            async with uploads.form(_upload_request([(0, b"v" * 2000)]), "alice"):
                pass
        async with uploads.form(_upload_request([(0, b"v" * 10)]), "alice") as last:
            return await last["video"].read()

    assert asyncio.run(in_turn()) == b"v" * 10


# The form fields' own bounds, checked before any work, and what /openapi.json says of them.


def _form(**fields: str) -> FormData:
    video = UploadFile(file=__import__("io").BytesIO(b"video"), filename="talk.mp4", headers=Headers())
    return FormData([("video", video), *fields.items()])


@pytest.mark.parametrize("field, limit", [("context_phrase", 1000), ("sessionId", 200)])
def test_context_phrase_and_session_id_have_their_own_bound(field, limit):
    _, session_id, analysis_input = parse_analysis_request(
        _form(**{field: "a" * limit}), HttpOptions(), observable_only=False
    )
    assert (session_id if field == "sessionId" else analysis_input.context_phrase) == "a" * limit
    with pytest.raises(InvalidRequest) as refused:
        parse_analysis_request(_form(**{field: "a" * (limit + 1)}), HttpOptions(), observable_only=False)
    assert answer_for(refused.value)[:2] == (422, f"Field '{field}' is longer than {limit} characters (the limit).")
    tighter = HttpOptions(max_context_phrase_chars=10, max_session_id_chars=10)
    with pytest.raises(InvalidRequest, match="longer than 10 characters"):
        parse_analysis_request(_form(**{field: "a" * 11}), tighter, observable_only=False)


def test_a_subject_is_read_within_its_bound_and_the_subject_limit_is_a_429_naming_it():
    from softskills.subjects.errors import InvalidSubject, TooManySubjects

    for absent in (_form(), _form(subject="")):  # an empty field is an absent one, as for every field
        assert parse_analysis_request(absent, HttpOptions(), observable_only=False).input.subject is None
    kept = parse_analysis_request(_form(subject="ana.b-2_x"), HttpOptions(), observable_only=False)
    assert kept.input.subject == "ana.b-2_x"
    for bad in ("x" * 65, "ana b", "../ana", "ñ"):
        with pytest.raises(InvalidSubject) as refused:
            parse_analysis_request(_form(subject=bad), HttpOptions(), observable_only=False)
        assert answer_for(refused.value)[:2] == (
            422,
            "Field 'subject' must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.",
        )
    status, detail = answer_for(TooManySubjects(1000))[:2]
    assert status == 429 and "1000 subjects" in detail and "subjects.max_subjects_per_owner" in detail
    assert form_schema(ANALYSIS, HttpOptions())["properties"]["subject"]["maxLength"] == 64


def test_the_openapi_document_states_the_fields_bounds_and_the_new_answers():
    options = HttpOptions()
    _FIELDS = form_schema(ANALYSIS, options)["properties"]
    assert _FIELDS["context_phrase"]["maxLength"] == options.max_context_phrase_chars == 1000
    assert _FIELDS["sessionId"]["maxLength"] == options.max_session_id_chars == 200
    assert _FIELDS["speakers_expected"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 8,
        "description": _FIELDS["speakers_expected"]["description"],
    }
    assert _FIELDS["speaker"]["enum"] == ["auto", "everyone", "1", "2", "3", "4", "5", "6", "7", "8"]
    assert {408, 429, 503} <= set(ERROR_RESPONSES) and {408, 429, 503} <= set(JOB_ERROR_RESPONSES)
