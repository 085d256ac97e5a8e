"""Integration: jobs with Redis as the broker (the production configuration: SOFTSKILLS_BROKER_URL), against a real
redis-server the test starts. The queue really is Redis's; a job answers what the synchronous endpoint answers; a
job survives its consumer replica being killed mid-analysis, and queued and running jobs survive the whole service
being killed at once and started again (Redis keeps the queue meanwhile)."""

from __future__ import annotations

import os
import signal
from contextlib import ExitStack

import pytest
import redis

from testkit.redis_server import redis_url  # noqa: F401  (fixture)
from testkit.service_runner import running_service
from tests.job_support import crash, job_test_args, replica_pids, submit, wait_for

pytestmark = pytest.mark.integration
QUEUE = "softskills-jobs"


class RedisBacked:
    def __init__(self, data_dir, broker: str):
        self.data_dir, self.broker, self._stack, self.service = data_dir, broker, ExitStack(), None

    def start(self):
        self.service = self._stack.enter_context(
            running_service(self.data_dir, configure=job_test_args, env={"SOFTSKILLS_BROKER_URL": self.broker})
        )
        return self.service

    def stop(self):
        self._stack.close()
        self._stack = ExitStack()


@pytest.fixture(scope="module")
def backed(tmp_path_factory, talking_head_videos, redis_url):  # noqa: F811
    handle = RedisBacked(tmp_path_factory.mktemp("jobs-redis"), redis_url)
    handle.start()
    yield handle
    handle.stop()


def test_jobs_go_through_redis_and_answer_as_the_synchronous_endpoint(backed, redis_url, talking_head):  # noqa: F811
    service = backed.service
    synchronous = service.post("/api/v1/analyze-video", talking_head.path).json()
    job = wait_for(service, submit(service, talking_head.path, data={"analysis": "analyze-video"}).json()["id"])
    assert job["status"] == "succeeded" and job["result"] == synchronous
    broker = redis.Redis.from_url(redis_url)
    assert broker.exists(f"_kombu.binding.{QUEUE}")  # kombu's routing table for the jobs queue, in Redis
    assert not (backed.data_dir / "jobs" / "queue").exists()  # and no embedded broker


def test_a_job_survives_its_consumer_being_killed(backed, talking_head):
    service = backed.service
    (consumer,) = replica_pids("JobConsumer")
    job_id = submit(service, talking_head.path).json()["id"]
    wait_for(service, job_id, lambda job: job["status"] != "queued", poll_s=0.1)
    os.kill(consumer, signal.SIGKILL)
    job = wait_for(service, job_id, timeout_s=300)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    assert job["result"]["video_analysis"]["speaking_pace_wpm"] == pytest.approx(talking_head.pace_wpm, rel=0.15)


def test_running_and_queued_jobs_survive_a_crash_of_the_whole_service(backed, redis_url, talking_head):  # noqa: F811
    service = backed.service
    running = submit(service, talking_head.path).json()["id"]
    queued = submit(service, talking_head.path, data={"analysis": "analyze-video"}).json()["id"]
    wait_for(service, running, lambda job: job["status"] != "queued", poll_s=0.1)
    at_crash = crash(service, backed.data_dir)
    backed.stop()
    assert (at_crash[running], at_crash[queued]) == ("running", "queued")
    assert redis.Redis.from_url(redis_url).llen(QUEUE) == 1  # the queued job waits in Redis while nothing runs
    service = backed.start()
    jobs = [wait_for(service, job_id, timeout_s=300) for job_id in (running, queued)]
    assert [job["status"] for job in jobs] == ["succeeded", "succeeded"], jobs
    assert (jobs[0]["attempts"], jobs[1]["attempts"]) == (2, 1)  # taken over; simply run
    assert jobs[0]["result"]["video_analysis"] == jobs[1]["result"]
