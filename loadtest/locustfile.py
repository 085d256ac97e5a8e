"""Authenticated uploads of real videos to both endpoints.

    SOFTSKILLS_API_KEY=ng_... SOFTSKILLS_LOADTEST_VIDEO=tests/.fixtures/script.mp4 \
      .venv/bin/locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 --headless -u 2 -r 1 -t 2m

The video defaults to the cached test fixture (built by `make test`); point SOFTSKILLS_LOADTEST_VIDEO at your own.
"""

from __future__ import annotations

import os
from pathlib import Path

from locust import HttpUser, between, task

VIDEO_PATH = Path(os.environ.get("SOFTSKILLS_LOADTEST_VIDEO", Path(__file__).parent.parent / "tests/.fixtures/script.mp4"))
API_KEY = os.environ.get("SOFTSKILLS_API_KEY", "")


class VideoUploader(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if not API_KEY:
            raise RuntimeError("set SOFTSKILLS_API_KEY to a key from `softskills keys create`")
        self.video = VIDEO_PATH.read_bytes()

    def _upload(self, path: str, headers: dict, data: dict | None = None) -> None:
        files = {"video": (VIDEO_PATH.name, self.video, "application/octet-stream")}
        with self.client.post(path, headers=headers, files=files, data=data, catch_response=True,
                              timeout=600) as response:
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
