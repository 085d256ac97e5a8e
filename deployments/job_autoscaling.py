"""Ray Serve's queue-length autoscaling of the task consumers (AsyncInferenceAutoscalingPolicy), with the broker from
$SOFTSKILLS_BROKER_URL: a secret in production, so serve_config.yaml names the queue only. Only the Serve controller
imports this module (its broker client needs tornado)."""

from __future__ import annotations

import os

from ray.serve.async_inference_autoscaling_policy import AsyncInferenceAutoscalingPolicy

from softskills.jobs.queue import BROKER_URL_ENV


class QueueLengthPolicy(AsyncInferenceAutoscalingPolicy):
    """Replicas for the messages waiting in `queue_name` (Redis or RabbitMQ); with the embedded broker the queue
    reads as empty and the deployment stays at its minimum."""

    def __init__(self, queue_name: str, poll_interval_s: float = 10.0):
        super().__init__(
            broker_url=os.environ.get(BROKER_URL_ENV, ""), queue_name=queue_name, poll_interval_s=poll_interval_s
        )
