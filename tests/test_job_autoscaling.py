"""The job consumers' autoscaling policy (Ray Serve's AsyncInferenceAutoscalingPolicy with the broker from the
environment) reading a real Redis queue: replicas follow the messages waiting."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import redis
from ray.serve._private.common import DeploymentID
from ray.serve.config import AutoscalingConfig, AutoscalingContext

from softskills.deployments.job_autoscaling import QueueLengthPolicy
from testkit.redis_server import throwaway_redis


def _context(replicas: int) -> AutoscalingContext:
    return AutoscalingContext(
        deployment_id=DeploymentID("JobConsumer", "softskills"),
        deployment_name="JobConsumer",
        app_name="softskills",
        current_num_replicas=replicas,
        target_num_replicas=replicas,
        running_replicas=[],
        total_num_requests=0,
        total_queued_requests=0,
        aggregated_metrics={},
        raw_metrics={},
        capacity_adjusted_min_replicas=1,
        capacity_adjusted_max_replicas=8,
        policy_state={},
        last_scale_up_time=None,
        last_scale_down_time=None,
        current_time=None,
        config=AutoscalingConfig(min_replicas=1, max_replicas=8, target_ongoing_requests=2),
    )


def test_replicas_follow_the_redis_queue(monkeypatch):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make system-deps)")
    with throwaway_redis(binary) as url:
        redis.Redis.from_url(url).rpush("softskills-jobs", *[f"message {n}" for n in range(6)])
        monkeypatch.setenv("SOFTSKILLS_BROKER_URL", url)
        policy = QueueLengthPolicy(queue_name="softskills-jobs", poll_interval_s=0)

        async def decide():
            policy(_context(1))  # starts a poll of the queue
            await asyncio.sleep(0.5)
            return policy(_context(1))

        desired, state = asyncio.run(decide())
    assert state == {"queue_length": 6}
    assert desired == 3  # 6 waiting messages, 2 per replica
