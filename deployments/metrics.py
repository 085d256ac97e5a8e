"""Prometheus metrics of the ingress, created in the replica on first use and exported by Ray's metrics agent
(docs/logs-and-metrics.md); Serve adds the deployment, replica and application tags."""

from __future__ import annotations

import functools

LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640]


@functools.cache
def _metrics() -> dict:
    from ray.serve import metrics

    return {
        "requests": metrics.Counter(
            "softskills_requests", "Analysis requests by endpoint and status.", tag_keys=("endpoint", "status")
        ),
        "errors": metrics.Counter(
            "softskills_errors",
            "Analysis requests answered with a 4xx or 5xx, by status.",
            tag_keys=("endpoint", "status"),
        ),
        "latency": metrics.Histogram(
            "softskills_request_seconds",
            "Time to answer an analysis request.",
            boundaries=LATENCY_BUCKETS_S,
            tag_keys=("endpoint", "status"),
        ),
        "stage": metrics.Histogram(
            "softskills_stage_seconds",
            "Time per analysis stage: decode_audio, "
            "decode_frames, language, "
            "speech_to_text, voice, speakers, face, pose, measure, engine.",
            boundaries=LATENCY_BUCKETS_S,
            tag_keys=("stage",),
        ),
    }


def observe_stage(stage: str, seconds: float) -> None:
    _metrics()["stage"].observe(seconds, tags={"stage": stage})


def observe_request(endpoint: str, status: int, seconds: float) -> None:
    tags = {"endpoint": endpoint, "status": str(status)}
    _metrics()["requests"].inc(tags=tags)
    _metrics()["latency"].observe(seconds, tags=tags)
    if status >= 400:
        _metrics()["errors"].inc(tags=tags)
