"""Shared pieces of the job tests: the test configuration of `jobs`, waiting for a job, the service's replica
processes, and an HTTP receiver for webhooks on this machine."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psutil

LEASE_TIMEOUT_S = 10  # a killed consumer's job is taken over within this plus a sweep


def job_test_args(args: dict) -> None:
    """Short leases and sweeps, so takeovers happen within seconds; fast webhook back-off; the tests' receiver on
    127.0.0.1 allowed."""
    args["jobs"] = {
        "heartbeat_s": 1,
        "lease_timeout_s": LEASE_TIMEOUT_S,
        "sweep_interval_s": 1,
        "webhooks": {"allowed_networks": ["127.0.0.1/32"], "first_retry_s": 1, "backoff_factor": 2, "max_attempts": 4},
    }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def submit(service, path: str, *, key: str | None = None, data: dict | None = None, headers: dict | None = None):
    with httpx.Client(base_url=service.base_url, timeout=120) as client, open(path, "rb") as video:
        return client.post(
            "/api/v1/jobs",
            headers={**auth(key or service.key), **(headers or {})},
            files={"video": ("talk.mp4", video, "application/octet-stream")},
            data=data or {},
        )


def get_job(service, job_id: str, key: str | None = None) -> httpx.Response:
    return httpx.get(f"{service.base_url}/api/v1/jobs/{job_id}", headers=auth(key or service.key), timeout=30)


def wait_for(
    service,
    job_id: str,
    done=lambda job: job["status"] in ("succeeded", "failed", "cancelled"),
    timeout_s: float = 240,
    poll_s: float = 0.5,
    key: str | None = None,
) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = get_job(service, job_id, key).json()
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s} s: {job}")
        time.sleep(poll_s)


def crash(service, data_dir) -> dict[str, str]:
    """SIGKILL to every process of the service at once (`serve run`, Ray's head, every replica), as a power cut
    would: nothing shuts down cleanly. Returns each job's status at that moment, read from the key store."""
    os.killpg(service.process_group, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(p.status() != psutil.STATUS_ZOMBIE for p in _group(service.process_group)):
        if time.monotonic() > deadline:
            raise AssertionError("the service's processes outlived SIGKILL")
        time.sleep(0.2)
    with sqlite3.connect(data_dir / "softskills.db") as db:
        return dict(db.execute("SELECT id, status FROM jobs").fetchall())


def _group(process_group: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == process_group:
                found.append(process)
        except (OSError, psutil.Error):
            pass
    return found


def replica_pids(deployment: str) -> list[int]:
    """This test run's replica processes of a deployment (`serve run` is our child, the replicas its
    descendants)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if f"ServeReplica:softskills:{deployment}" in " ".join(process.cmdline()):
                found.append(process.pid)
        except psutil.Error:
            pass
    return found


class Receiver:
    """An HTTP server on 127.0.0.1 that answers each POST with the next of `statuses` (then 204) and keeps each
    request's headers (lower-cased) and body."""

    def __init__(self, statuses: list[int] = ()):
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/softskills"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class TricklingReceiver:
    """A bare TCP server on 127.0.0.1 (optionally TLS) for webhook attempts: reads each request whole, waits for
    `release` when given, then sends `at_once` and `trickled` one byte every `interval_s`, as a slow or hostile
    receiver would. Keeps each request and the most connections it had open at once."""

    def __init__(
        self,
        at_once: bytes = b"",
        trickled: bytes = b"",
        interval_s: float = 0.0,
        release: threading.Event | None = None,
        tls=None,
    ):
        self.at_once, self.trickled, self.interval_s, self.release, self.tls = (
            at_once,
            trickled,
            interval_s,
            release,
            tls,
        )
        self.requests: list[bytes] = []
        self.open_connections = self.most_open_connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hooks/softskills"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with self._lock:
            self.open_connections += 1
            self.most_open_connections = max(self.most_open_connections, self.open_connections)
        try:
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
            )
            while len(body) < length:
                body += connection.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + body)
            if self.release is not None:
                self.release.wait(30)
            connection.sendall(self.at_once)
            for byte in self.trickled:
                time.sleep(self.interval_s)
                connection.sendall(bytes([byte]))
        except OSError:  # the sender hung up: what a deadline does
            pass
        finally:
            connection.close()
            with self._lock:
                self.open_connections -= 1

    def __enter__(self) -> TricklingReceiver:
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
