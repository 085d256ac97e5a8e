"""A throwaway redis-server (Debian's `redis-server`, installed by `make system-deps`) for the job tests that use
Redis as the broker, started the way testkit/postgres_server.py starts PostgreSQL: on 127.0.0.1, a free port, nothing
written to disk, stopped on exit. Without the binary the tests skip locally and fail under CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from testkit.service_runner import free_port


@contextmanager
def throwaway_redis(binary: str) -> Iterator[str]:
    """Yields a redis:// URL (database 0) of a server that lives as long as the block."""
    root = tempfile.mkdtemp(prefix="softskills-redis-")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            root,
            "--logfile",
            os.path.join(root, "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{open(os.path.join(root, 'redis.log')).read()}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (make system-deps installs Debian's redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_redis(binary) as url:
        yield url
