"""A multi-node Ray cluster on this one machine, running the application the way a real cluster runs it.

A head and worker nodes (`ray.cluster_utils.Cluster`): each node is its own raylet with its own object store and
its own logical resources. The config is `serve_config.cpu.yaml` made multi-node (`cluster_serve_config`) and is
deployed through the head's dashboard REST API, the same call `serve deploy` and KubeRay make. The key store is
one PostgreSQL server every ingress replica uses, and the local video store one directory every node sees
(docs/cluster.md). Used by tests/test_cluster.py and benchmarks/cluster_autoscale.py.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml

from testkit.service_runner import REPO, TEST_PEPPER, Service, free_port

if TYPE_CHECKING:
    from ray._private.node import Node
    from ray.cluster_utils import Cluster

APP_NAME = "softskills"
MODEL_DEPLOYMENTS = ("SpeechToTextDeployment", "FaceLandmarksDeployment")
# The ingress and the engine carry this resource, which only the head has: the test removes worker nodes, and the
# single HTTP proxy (proxy_location: HeadOnly, since every node here shares one address) and its ingress must
# outlive them. Model replicas may run on any node.
HEAD_RESOURCE = "softskills_head"
# Logical CPUs per node. The head's 2.0 is exactly what the CPU config asks for (ingress 0.5, engine 0.25, speech
# 0.75, face 0.5), so it holds one replica of each; a worker holds one speech and one face replica. The machine
# has 2 cores in all: these are Ray's bookkeeping, not cores.
NODE_CPUS = 2.0
OBJECT_STORE_BYTES = 256 * 1024 * 1024
# Speech and face scale between one replica per node on two nodes and one on every node: max_replicas_per_node 1
# puts each replica of a deployment on a different node. Each request keeps a face replica busy for only part of its
# time: with a target of 1 ongoing call per replica and the CPU config's two analyses at a time, four clients kept
# face at 2 replicas for a whole 150 s burst (speech went to 3 and back), so the target is 0.25 and the ingress runs
# four analyses at once. Small delays, and handles that report their load every second, make a short burst show the
# scale-up and the quiet after it the scale-down (serve_config.yaml: a target of 2, delays of 10 s and 300 s).
MODEL_AUTOSCALING = {
    "min_replicas": 2,
    "max_replicas": 3,
    "target_ongoing_requests": 0.25,
    "upscale_delay_s": 2,
    "downscale_delay_s": 10,
    "look_back_period_s": 5,
    "metrics_interval_s": 1,
}
MAX_CONCURRENT_ANALYSES = 4
MAX_UPLOADS_PER_OWNER = 8  # the ingress's default max_concurrent_uploads
# A call on a lost node fails fast (the replica's process dies with it), but if one ever hung, this bounds it to a
# JSON 504 instead of the default 600 s.
STAGE_TIMEOUT_S = 120
STORAGE_KEY = "cluster-test-storage-key-0123456789abcdef"
DEPLOY_TIMEOUT_S = 420


def cluster_serve_config(http_port: int, video_dir: Path) -> dict:
    """serve_config.cpu.yaml on a free port, with the video store in a shared directory, stage timeouts of
    STAGE_TIMEOUT_S, MAX_CONCURRENT_ANALYSES, MAX_UPLOADS_PER_OWNER, the ingress and engine on the head, and speech
    and face autoscaled one replica per node. The model replicas log at DEBUG, which adds Serve's "Started executing
    request" line (with the request id) to each call, so that a test can tell which requests a removed node was
    working on."""
    config = yaml.safe_load((REPO / "serve_config.cpu.yaml").read_text())
    config["http_options"]["port"] = http_port
    (app,) = config["applications"]
    # One key plays every client of a burst, so all its uploads may stream in at once.
    app["args"]["storage"] = {"backend": "local", "local_dir": str(video_dir)}
    app["args"].setdefault("analysis", {}).update(speech_timeout_s=STAGE_TIMEOUT_S, face_timeout_s=STAGE_TIMEOUT_S)
    app["args"].setdefault("http", {}).update(
        max_concurrent_analyses=MAX_CONCURRENT_ANALYSES, max_uploads_per_owner=MAX_UPLOADS_PER_OWNER
    )
    for deployment in app["deployments"]:
        if deployment["name"] in MODEL_DEPLOYMENTS:
            deployment.pop("num_replicas", None)
            deployment["autoscaling_config"] = dict(MODEL_AUTOSCALING)
            deployment["max_replicas_per_node"] = 1
            deployment["logging_config"] = {**config["logging_config"], "log_level": "DEBUG"}
        else:
            deployment.setdefault("ray_actor_options", {})["resources"] = {HEAD_RESOURCE: 1}
    return config


@dataclass(frozen=True)
class Replica:
    deployment: str
    replica_id: str
    state: str
    node_id: str
    log_file: Path | None


@dataclass
class RayTestCluster:
    cluster: Cluster
    dashboard_url: str
    service: Service
    logs_dir: Path
    video_dir: Path
    node_args: dict
    workers: dict[str, Node] = field(default_factory=dict)  # by name

    def node_names(self) -> dict[str, str]:
        """Node id -> "head", "worker-1", ... (the nodes alive now)."""
        names = {self.cluster.head_node.node_id: "head"}
        names.update({node.node_id: name for name, node in self.workers.items()})
        return names

    def add_worker(self, name: str) -> None:
        self.workers[name] = self.cluster.add_node(**self.node_args)

    def remove_worker(self, name: str) -> None:
        """SIGKILLs every process of the node at once, the replicas with it: a machine or pod lost, not a drain."""
        self.cluster.remove_node(self.workers.pop(name), allow_graceful=False)

    def details(self) -> dict:
        response = httpx.get(f"{self.dashboard_url}/api/serve/applications/", timeout=30)
        response.raise_for_status()
        return response.json()

    def replicas(self) -> list[Replica]:
        app = self.details()["applications"].get(APP_NAME) or {"deployments": {}}
        return [
            Replica(
                name,
                r["replica_id"],
                r["state"],
                r.get("node_id") or "",
                self.logs_dir / Path(r["log_file_path"]).relative_to("/") if r.get("log_file_path") else None,
            )
            for name, deployment in app["deployments"].items()
            for r in deployment["replicas"]
        ]

    def running(self, deployment: str) -> list[Replica]:
        return [r for r in self.replicas() if r.deployment == deployment and r.state == "RUNNING"]

    def replica_counts(self) -> dict[str, dict[str, int]]:
        """Deployment -> replica state -> count, as `serve status` shows them."""
        counts: dict[str, Counter] = {name: Counter() for name in MODEL_DEPLOYMENTS}
        for replica in self.replicas():
            counts.setdefault(replica.deployment, Counter())[replica.state] += 1
        return {name: dict(states) for name, states in counts.items()}

    def wait_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> float:
        """Polls the condition every second; returns the seconds it took, or fails naming what it waited for."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout_s:
                raise AssertionError(f"not {what} after {timeout_s} s: {self.replica_counts()}")
            time.sleep(1)
        return time.monotonic() - started


@contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """Sets variables for the processes started inside (Ray's nodes inherit them, as pods get theirs from the
    pod spec), and restores the previous values after."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _wait_for_application(cluster: RayTestCluster, health_url: str) -> None:
    deadline = time.monotonic() + DEPLOY_TIMEOUT_S
    while time.monotonic() < deadline:
        app = cluster.details()["applications"].get(APP_NAME)
        if app and app["status"] == "DEPLOY_FAILED":
            raise RuntimeError(f"the application failed to deploy: {app['message'][-4000:]}")
        if app and app["status"] == "RUNNING":
            try:
                if httpx.get(health_url, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(2)
    raise RuntimeError(f"application not running after {DEPLOY_TIMEOUT_S} s: {cluster.replica_counts()}")


@contextmanager
def running_cluster(work_dir: Path, database_url: str, workers: int = 2) -> Iterator[RayTestCluster]:
    """A head and `workers` worker nodes running the application; yields once /health answers, with a fresh key
    in the shared PostgreSQL store. Every node and replica is gone on exit."""
    from ray.cluster_utils import Cluster

    from softskills.auth.hashing import Pepper
    from softskills.auth.store import KeyStore
    from softskills.db.engine import with_psycopg_driver

    database_url = with_psycopg_driver(database_url)
    work_dir = Path(work_dir)
    data_dir, video_dir = work_dir / "data", work_dir / "videos"
    data_dir.mkdir(parents=True, exist_ok=True)
    video_dir.mkdir(parents=True, exist_ok=True)
    # Unix socket paths must stay under 108 bytes, so Ray's session lives in a short directory of its own.
    ray_root = Path(tempfile.mkdtemp(prefix="ssray-", dir="/tmp"))
    ray_temp_dir = ray_root / "ray"
    ray_temp_dir.mkdir()
    http_port, dashboard_port = free_port(), free_port()
    node_env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "DATABASE_URL": database_url,
        "SOFTSKILLS_KEY_PEPPER": TEST_PEPPER,
        "SOFTSKILLS_STORAGE_KEY": STORAGE_KEY,
        "SOFTSKILLS_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray writes the cluster's address under $RAY_TMPDIR/ray, /tmp/ray by default: ours stays apart.
        "RAY_TMPDIR": str(ray_root),
    }
    worker_args = {"num_cpus": NODE_CPUS, "object_store_memory": OBJECT_STORE_BYTES}
    store = KeyStore(database_url, pepper=Pepper(TEST_PEPPER.encode()))
    key, _ = store.create_key("cluster", "Cluster Key", timedelta(days=1))
    try:
        with _environment(**node_env):
            cluster = Cluster(
                initialize_head=True,
                head_node_args={
                    **worker_args,
                    "resources": {HEAD_RESOURCE: 100},
                    "temp_dir": str(ray_temp_dir),
                    "gcs_server_port": free_port(),
                    "include_dashboard": True,
                    "dashboard_host": "127.0.0.1",
                    "dashboard_port": dashboard_port,
                    "dashboard_agent_listen_port": free_port(),
                },
            )
            try:
                test_cluster = RayTestCluster(
                    cluster,
                    f"http://127.0.0.1:{dashboard_port}",
                    Service(f"http://127.0.0.1:{http_port}", key, store, work_dir / "serve.log"),
                    Path(cluster.head_node.get_logs_dir_path()),
                    video_dir,
                    worker_args,
                )
                for number in range(1, workers + 1):
                    test_cluster.add_worker(f"worker-{number}")
                config = cluster_serve_config(http_port, video_dir)
                (work_dir / "cluster_serve_config.yaml").write_text(yaml.safe_dump(config))
                httpx.put(
                    f"{test_cluster.dashboard_url}/api/serve/applications/", json=config, timeout=60
                ).raise_for_status()
                _wait_for_application(test_cluster, f"{test_cluster.service.base_url}/health")
                yield test_cluster
            finally:
                cluster.shutdown()
                _save_serve_logs(ray_temp_dir / "session_latest" / "logs", work_dir / "serve.log")
    finally:
        shutil.rmtree(ray_root, ignore_errors=True)


def _save_serve_logs(logs_dir: Path, destination: Path) -> None:
    """Keeps the controller's log beside the work dir, for a failed run's diagnosis."""
    controller_logs = sorted((logs_dir / "serve").glob("controller_*.log"))
    destination.write_text("\n".join(p.read_text(errors="replace") for p in controller_logs))


def _call_counts(log_file: Path | None) -> tuple[Counter, Counter]:
    """Per request id, the calls a model replica started (Serve's DEBUG "Started executing request" line) and
    the calls it finished (Serve's access line, "CALL <method> OK|ERROR <ms>")."""
    started, finished = Counter(), Counter()
    if log_file is None or not log_file.exists():
        return started, finished
    for line in log_file.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        request_id, message = record.get("request_id"), record.get("message", "")
        if request_id and message.startswith("Started executing request"):
            started[request_id] += 1
        elif request_id and message.startswith("CALL "):
            finished[request_id] += 1
    return started, finished


def started_request_ids(log_file: Path | None) -> set[str]:
    """Requests that had a call on this model replica."""
    return set(_call_counts(log_file)[0])


def request_ids_in_flight(log_file: Path | None) -> set[str]:
    """Requests with a call this model replica started and has not finished (or never finished: it died)."""
    started, finished = _call_counts(log_file)
    return {request_id for request_id, count in started.items() if count > finished[request_id]}


# What Ray raises for a call whose actor died, or whose result was lost with its node's object store.
LOST_WITH_A_NODE = (
    "ActorDiedError",
    "ActorUnavailableError",
    "RayActorError",
    "NodeDiedError",
    "ObjectLostError",
    "OwnerDiedError",
)


def requests_lost_with_a_replica(log_file: Path | None) -> set[str]:
    """Requests whose failure the ingress logged as a call lost with a dead replica or node. A call the router had
    sent to a replica that died before it logged the call's start is one: the replica's own log cannot show it."""
    lost = set()
    if log_file is None or not log_file.exists():
        return lost
    for line in log_file.read_text(errors="replace").splitlines():
        if line.startswith("{") and any(name in line for name in LOST_WITH_A_NODE):
            request_id = json.loads(line).get("request_id")
            if request_id:
                lost.add(request_id)
    return lost
