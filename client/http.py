"""Calls to the SoftSkills API: a multipart upload streamed from disk with a progress callback, and the job calls."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

CHUNK_BYTES = 256 * 1024
# The server answers a synchronous analysis within its request_timeout_s (840 s by default), well inside this.
READ_TIMEOUT_S = 900.0
FINISHED = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """The API answered with an error: its status and the `detail` it gave."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


@dataclass
class Client:
    base_url: str
    api_key: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "User-Agent": "softskills-cli/1"}

    def upload(
        self,
        path: str,
        fields: dict[str, str],
        endpoint: str,
        progress: Callable[[int, int], None] = lambda sent, total: None,
        headers: dict | None = None,
    ) -> dict:
        """POSTs the video and fields as multipart/form-data, reading the file as it is sent."""
        boundary = secrets.token_hex(16)
        head, tail = _multipart(boundary, fields, Path(path).name)
        total = len(head) + Path(path).stat().st_size + len(tail)

        def body() -> Iterator[bytes]:
            sent = len(head)
            yield head
            with open(path, "rb") as video:
                while chunk := video.read(CHUNK_BYTES):
                    sent += len(chunk)
                    progress(sent, total)
                    yield chunk
            yield tail
            progress(total, total)

        timeout = httpx.Timeout(30.0, read=READ_TIMEOUT_S)
        with httpx.Client(base_url=self.base_url, timeout=timeout) as client:
            response = client.post(
                endpoint,
                content=body(),
                headers={
                    **self._headers(),
                    **(headers or {}),
                    "Content-Length": str(total),
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
            )
        return _answer(response)

    def job(self, job_id: str) -> dict:
        with httpx.Client(base_url=self.base_url, timeout=30.0) as client:
            return _answer(client.get(f"/api/v1/jobs/{job_id}", headers=self._headers()))

    def wait(self, job_id: str, poll_s: float = 2.0, on_poll: Callable[[dict], None] = lambda job: None) -> dict:
        """Polls the job until it has finished."""
        while True:
            job = self.job(job_id)
            on_poll(job)
            if job["status"] in FINISHED:
                return job
            time.sleep(poll_s)


def _multipart(boundary: str, fields: dict[str, str], filename: str) -> tuple[bytes, bytes]:
    """The bytes before the video (the text fields, then the file part's header) and after it."""
    safe_name = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in filename)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="{safe_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return "".join(parts).encode(), f"\r\n--{boundary}--\r\n".encode()


def _answer(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:200] or response.reason_phrase}
    if response.status_code >= 400:
        raise ApiError(response.status_code, str(body.get("detail", body)))
    return body
