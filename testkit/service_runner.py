"""Start the real Serve application from serve_config.cpu.yaml on a free port with a throwaway key store, for the
integration tests and the accuracy benchmark (benchmarks/accuracy.py)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml

if TYPE_CHECKING:
    from softskills.auth.store import KeyStore

REPO = Path(__file__).resolve().parent.parent
TEST_PEPPER = "integration-test-pepper-0123456789abcdef"


@dataclass
class Service:
    base_url: str
    key: str
    store: KeyStore
    log_path: Path
    process_group: int = 0  # of `serve run`, Ray's processes and the replicas: killpg ends them all

    def post(self, path: str, video_path: str | None, *, headers=None, data=None, field="video", timeout=300):
        headers = {"Authorization": f"Bearer {self.key}"} if headers is None else headers
        files = None
        if video_path is not None:
            files = {field: (Path(video_path).name, open(video_path, "rb"), "application/octet-stream")}
        with httpx.Client(base_url=self.base_url, timeout=timeout) as client:
            return client.post(path, headers=headers, files=files, data=data)


# Ports for test servers come from below the kernel's ephemeral range (Linux: 32768-60999). Ray picks the ports of
# its agents and metrics exporters at random between a port-0 (ephemeral) port and 65535 while the service starts
# (ray/_private/node.py, _get_unused_port), and once took the port a test had just probed and released: requests
# then met a Prometheus exporter's 405. Nothing picks ports below the ephemeral range on its own.
TEST_PORTS = range(20000, 32000)


def free_port() -> int:
    """A port free now on 127.0.0.1 that no other process can be given by a bind to port 0."""
    for port in random.sample(TEST_PORTS, 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {TEST_PORTS}")


def wait_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout_s: float = 420) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = log_path.read_text()
        if process.poll() is not None or "Failed to update the deployments" in log:
            raise RuntimeError(f"the application failed to start:\n{log[-6000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise RuntimeError(f"service not healthy in {timeout_s} s:\n{log_path.read_text()[-4000:]}")


@contextmanager
def running_service(
    data_dir: Path,
    config: Path = REPO / "serve_config.cpu.yaml",
    *,
    configure: Callable[[dict], None] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Service]:
    """`serve run` the config on a free port with its key store in data_dir; yields a Service holding a fresh key.
    `configure` may change the application's `args` first; `env` adds to the service's environment. Starting again
    on the same data_dir is a restart: the keys, the jobs and the embedded broker's queue are still there. The
    process group is interrupted (then killed) on exit, so Ray and the replicas go with it."""
    data_dir = Path(data_dir)
    settings = yaml.safe_load(config.read_text())
    port = free_port()
    settings["http_options"]["port"] = port
    if configure is not None:
        configure(settings["applications"][0]["args"])
    config_path = data_dir / "serve_config.yaml"
    config_path.write_text(yaml.safe_dump(settings))
    env = {
        **os.environ,
        "SOFTSKILLS_DATA_DIR": str(data_dir),
        "SOFTSKILLS_KEY_PEPPER": TEST_PEPPER,
        "HF_HUB_OFFLINE": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        **(env or {}),
    }
    log_path = data_dir / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "serve"), "run", str(config_path), "--app-dir", str(REPO)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    previous_pepper = os.environ.get("SOFTSKILLS_KEY_PEPPER")
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, log_path)
        os.environ["SOFTSKILLS_KEY_PEPPER"] = TEST_PEPPER
        from softskills.auth.store import KeyStore

        store = KeyStore(f"sqlite:///{data_dir}/softskills.db")
        key, _ = store.create_key("integration", "Integration Key", timedelta(days=30))
        yield Service(f"http://127.0.0.1:{port}", key, store, log_path, process.pid)
    finally:
        if previous_pepper is None:
            os.environ.pop("SOFTSKILLS_KEY_PEPPER", None)
        else:
            os.environ["SOFTSKILLS_KEY_PEPPER"] = previous_pepper
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
