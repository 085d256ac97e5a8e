"""Authenticated uploads of real videos: to both synchronous endpoints (VideoUploader), or as jobs (JobUser).

    SOFTSKILLS_API_KEY=ng_... .venv/bin/locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 \
      --headless -u 2 -r 1 -t 2m VideoUploader      # or JobUser

`make loadtest` runs this against a service it starts itself, with pass/fail thresholds (loadtest/run.py). The videos
default to the cached test fixtures (built by `make test` or `make loadtest`): the espeak-ng script as mp4 and webm
and the real Beckett recording; point SOFTSKILLS_LOADTEST_VIDEOS at your own (comma-separated paths).
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from locust import HttpUser, between, task

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / ".fixtures"
DEFAULT_VIDEOS = ",".join(str(FIXTURES / name) for name in ("script.mp4", "script.webm", "beckett.mp4"))
VIDEO_PATHS = [Path(p) for p in os.environ.get("SOFTSKILLS_LOADTEST_VIDEOS", DEFAULT_VIDEOS).split(",") if p]
API_KEY = os.environ.get("SOFTSKILLS_API_KEY", "")


def _videos():
    """(name, bytes) of each video, round and round."""
    if not API_KEY:
        raise RuntimeError("set SOFTSKILLS_API_KEY to a key from `softskills keys create`")
    return itertools.cycle([(p.name, p.read_bytes()) for p in VIDEO_PATHS])


class VideoUploader(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.videos = _videos()

    def _upload(self, path: str, headers: dict, data: dict | None = None) -> None:
        name, content = next(self.videos)
        with self.client.post(
            path,
            headers=headers,
            files={"video": (name, content, "application/octet-stream")},
            data=data,
            catch_response=True,
            timeout=600,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            elif "overall_score" not in response.text:
                response.failure("200 without an analysis body")

    @task(3)
    def analyze_video(self) -> None:
        self._upload("/api/v1/analyze-video", {"Authorization": f"Bearer {API_KEY}"})

    @task(1)
    def full_analysis(self) -> None:
        self._upload("/api/v1/full-analysis", {"X-API-Key": API_KEY}, {"context_phrase": "job interview practice"})


JOB_POLL_S = 1.0
FINISHED = ("succeeded", "failed", "cancelled")


class JobUser(HttpUser):
    """Queues each video as a job, polls it until it has finished, and reports the time from submission to result as
    a request of type JOB (a failed or cancelled job is a failure), beside the POSTs and polls themselves."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.videos = _videos()
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    @task
    def job(self) -> None:
        name, content = next(self.videos)
        started = time.perf_counter()
        with self.client.post(
            "/api/v1/jobs",
            headers=self.headers,
            data={"analysis": "analyze-video"},
            files={"video": (name, content, "application/octet-stream")},
            catch_response=True,
            timeout=600,
        ) as response:
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            job_id = response.json()["id"]
        status = "queued"
        while status not in FINISHED:
            time.sleep(JOB_POLL_S)
            status = self.client.get(f"/api/v1/jobs/{job_id}", headers=self.headers, name="/api/v1/jobs/[id]").json()[
                "status"
            ]
        self.environment.events.request.fire(
            request_type="JOB",
            name="submitted → finished",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            context={},
            exception=None if status == "succeeded" else RuntimeError(status),
        )
