"""Integration: jobs on the real service with its embedded broker (kombu's filesystem transport, what `make serve`
runs): the same answer as the synchronous endpoints, idempotency, owners, cancellation, signed and retried webhooks,
the `softskills analyze` client, a consumer replica killed mid-analysis, and the whole service killed and started
again, after which a job whose speech stage keeps timing out is retried, then failed with the reason.

One service for the module (short leases: tests/job_support.py); the last test kills it and starts it again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack

import httpx
import pytest
from standardwebhooks import Webhook

from testkit.service_runner import REPO, running_service
from tests.job_support import (
    LEASE_TIMEOUT_S,
    Receiver,
    auth,
    crash,
    get_job,
    job_test_args,
    replica_pids,
    submit,
    wait_for,
)

pytestmark = pytest.mark.integration


class Restartable:
    """The module's service, which the last test stops and starts again on the same data."""

    def __init__(self, data_dir):
        self.data_dir, self._stack, self.service = data_dir, ExitStack(), None

    def start(self, configure=job_test_args):
        self.service = self._stack.enter_context(running_service(self.data_dir, configure=configure))
        return self.service

    def stop(self):
        self._stack.close()
        self._stack = ExitStack()


@pytest.fixture(scope="module")
def restartable(tmp_path_factory, talking_head_videos):
    handle = Restartable(tmp_path_factory.mktemp("jobs"))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def service(restartable):
    return restartable.service


def test_jobs_are_documented_in_openapi(service):
    spec = httpx.get(f"{service.base_url}/openapi.json").json()
    assert {"post", "get"} <= set(spec["paths"]["/api/v1/jobs"]) and "delete" in spec["paths"]["/api/v1/jobs/{job_id}"]
    job = spec["components"]["schemas"]["Job"]["properties"]
    assert {"id", "status", "result", "error", "webhook", "attempts", "links"} <= set(job)
    assert "202" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]
    assert {"analysis", "webhook_url", "video"} <= set(
        spec["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    )


def test_a_job_answers_what_the_synchronous_endpoint_answers(service, talking_head):
    synchronous = service.post("/api/v1/analyze-video", talking_head.path)
    assert synchronous.status_code == 200
    created = submit(service, talking_head.path, data={"analysis": "analyze-video"})
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "queued" and created.headers["location"] == created.json()["links"]["self"]
    job = wait_for(service, created.json()["id"])
    assert job["status"] == "succeeded" and job["attempts"] == 1 and job["error"] is None
    assert job["result"] == synchronous.json()
    assert job["result"]["speaking_pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)

    full = wait_for(service, submit(service, talking_head.path, data={"sessionId": "s-7"}).json()["id"])
    assert full["analysis"] == "full-analysis" and full["result"]["sessionId"] == "s-7"
    assert full["result"]["video_analysis"] == synchronous.json()  # the same analysis, plus full-analysis's parts
    video = httpx.get(full["result"]["videoUrl"], timeout=30)  # kept behind a signed URL, like full-analysis's
    assert video.status_code == 200 and len(video.content) == os.path.getsize(talking_head.path)


def test_idempotency_keys_and_owners(service, talking_head_no_audio):
    path = talking_head_no_audio.path
    first = submit(service, path, headers={"Idempotency-Key": "upload-42"}, data={"analysis": "analyze-video"})
    again = submit(service, path, headers={"Idempotency-Key": "upload-42"}, data={"analysis": "analyze-video"})
    assert first.status_code == again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    other_body = submit(service, path, headers={"Idempotency-Key": "upload-42"}, data={"analysis": "full-analysis"})
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.json()["detail"]

    job_id = first.json()["id"]
    stranger, _ = service.store.create_key("someone-else", "Other", None)
    missing = get_job(service, "job_" + "A" * 22)
    assert missing.status_code == 404
    for response in (
        get_job(service, job_id, stranger),
        httpx.delete(f"{service.base_url}/api/v1/jobs/{job_id}", headers=auth(stranger)),
    ):
        assert (response.status_code, response.json()) == (404, missing.json())  # as if it did not exist
    assert httpx.get(f"{service.base_url}/api/v1/jobs", headers=auth(stranger)).json() == {
        "jobs": [],
        "next_cursor": None,
    }
    page = httpx.get(f"{service.base_url}/api/v1/jobs", params={"limit": 1}, headers=auth(service.key)).json()
    assert [j["id"] for j in page["jobs"]] == [job_id] and page["next_cursor"] == job_id
    rest = httpx.get(
        f"{service.base_url}/api/v1/jobs", params={"cursor": page["next_cursor"]}, headers=auth(service.key)
    ).json()
    assert job_id not in [j["id"] for j in rest["jobs"]] and len(rest["jobs"]) >= 2
    assert wait_for(service, job_id)["status"] == "succeeded"


def test_webhooks_are_signed_retried_and_recorded(service, talking_head_no_audio):
    refused = submit(service, talking_head_no_audio.path, data={"webhook_url": "http://127.0.0.1:9/hook"})
    assert refused.status_code == 422 and "POST /api/v1/webhooks/secret" in refused.json()["detail"]
    created = httpx.post(f"{service.base_url}/api/v1/webhooks/secret", headers=auth(service.key))
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    status = httpx.get(f"{service.base_url}/api/v1/webhooks/secret", headers=auth(service.key)).json()
    assert status["exists"] and "secret" not in status
    private = submit(service, talking_head_no_audio.path, data={"webhook_url": "http://10.1.2.3/hook"})
    assert private.status_code == 422 and "private" in private.json()["detail"]

    with Receiver([500]) as receiver:
        job_id = submit(
            service, talking_head_no_audio.path, data={"analysis": "analyze-video", "webhook_url": receiver.url}
        ).json()["id"]
        job = wait_for(service, job_id, lambda j: j["webhook"]["state"] in ("delivered", "failed"), timeout_s=240)
    assert job["status"] == "succeeded" and job["webhook"]["state"] == "delivered"
    attempts = job["webhook"]["attempts"]
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 204)]
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        event = Webhook(created.json()["secret"]).verify(body, headers)  # the reference implementation
        assert event["type"] == "job.succeeded" and event["data"]["id"] == job_id
        assert event["data"]["url"] == f"{service.base_url}/api/v1/jobs/{job_id}"
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]
    gap_s = time.mktime(time.strptime(attempts[1]["at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(
        time.strptime(attempts[0]["at"][:19], "%Y-%m-%dT%H:%M:%S")
    )
    assert gap_s >= 1  # the back-off's first wait (first_retry_s)


def test_a_queued_job_can_be_cancelled(service, talking_head, talking_head_no_audio):
    running = submit(service, talking_head.path).json()["id"]  # one at a time: the next one waits behind it
    queued = submit(service, talking_head_no_audio.path).json()["id"]
    cancelled = httpx.delete(f"{service.base_url}/api/v1/jobs/{queued}", headers=auth(service.key))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = httpx.delete(f"{service.base_url}/api/v1/jobs/{queued}", headers=auth(service.key))
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    assert wait_for(service, running)["status"] == "succeeded"
    time.sleep(2)  # the cancelled job's message has been taken by now, and dropped
    after = get_job(service, queued).json()
    assert after["status"] == "cancelled" and after["attempts"] == 0 and after["result"] is None


def _cli(service, *args, key=True):
    env = {**os.environ, "SOFTSKILLS_URL": service.base_url}
    env.pop("SOFTSKILLS_API_KEY", None)
    if key:
        env["SOFTSKILLS_API_KEY"] = service.key
    return subprocess.run(
        [sys.executable, "-m", "softskills.cli.main", "analyze", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )


def test_the_command_line_client(service, talking_head, talking_head_no_audio):
    shown = _cli(service, talking_head.path, "--context", "team update")
    assert shown.returncode == 0, shown.stderr
    assert "Uploaded" in shown.stderr and "(100%)" in shown.stderr
    assert "Overall" in shown.stdout and "clarity" in shown.stdout and "Key moments" in shown.stdout
    pace = float(shown.stdout.split("Pace ")[1].split(" wpm")[0])
    assert pace == pytest.approx(talking_head.pace_wpm, rel=0.15)
    assert "0:04" in shown.stdout  # the long pause's time, in a key moment or an area to work on

    waited = _cli(service, talking_head_no_audio.path, "--async", "--wait", "--json")
    assert waited.returncode == 0, waited.stderr
    job = json.loads(waited.stdout)
    assert job["status"] == "succeeded" and job == get_job(service, job["id"]).json()
    assert job["analysis"] == "analyze-video" and job["result"]["speaking_pace_wpm"] is None  # no audio

    assert _cli(service, talking_head.path, key=False).returncode == 2
    refused = _cli(service, str(REPO / "testkit" / "assets" / "portrait_astronaut.png"), "--async")
    assert refused.returncode == 1 and "415" in refused.stderr


def test_a_job_survives_its_consumer_being_killed(service, talking_head):
    (consumer,) = replica_pids("JobConsumer")
    job_id = submit(service, talking_head.path).json()["id"]
    wait_for(service, job_id, lambda job: job["status"] != "queued", poll_s=0.1)
    os.kill(consumer, signal.SIGKILL)  # mid-analysis: its lease lapses and the job is taken over
    killed_at = time.monotonic()
    job = wait_for(service, job_id, timeout_s=300)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    assert time.monotonic() - killed_at >= LEASE_TIMEOUT_S - 1
    assert job["result"]["video_analysis"]["speaking_pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)
    assert replica_pids("JobConsumer") and consumer not in replica_pids("JobConsumer")


def test_a_job_survives_a_crash_and_a_failing_one_is_retried_then_failed(
    restartable, talking_head, talking_head_no_audio
):
    """The whole service is killed at once (every process, as a power cut would) with a job unfinished, then started
    again, into a configuration whose speech stage times out at once. The video without audio needs no speech
    stage, so that job succeeds; a video with speech then fails every attempt, a server-side error the task queue
    retries with back-off before the job is marked failed with the reason."""
    survivor = submit(restartable.service, talking_head_no_audio.path).json()["id"]
    assert crash(restartable.service, restartable.data_dir)[survivor] in ("queued", "running")
    restartable.stop()

    def stalling_speech(args):
        job_test_args(args)
        args.setdefault("analysis", {})["speech_timeout_s"] = 0.001

    service = restartable.start(stalling_speech)
    job = wait_for(service, survivor, timeout_s=300)
    assert job["status"] == "succeeded" and job["result"]["video_analysis"]["evidence_quality"]["frames_analyzed"] > 0

    failing = submit(service, talking_head.path).json()["id"]
    job = wait_for(service, failing, timeout_s=300)
    assert job["status"] == "failed" and job["attempts"] == 3 and job["result"] is None
    assert job["error"]["status_code"] == 504 and job["error"]["detail"].startswith("Analysis timed out (speech")
