"""`make cluster-autoscale`: autoscaling of speech and face on a multi-node Ray cluster, shown as replica counts.

Starts a throwaway PostgreSQL key store and a head plus two worker nodes on this machine (testkit/ray_cluster.py: the
CPU config with speech and face autoscaled between 2 and 3 replicas, one per node, target 0.25 ongoing calls per
replica, upscale delay 2 s, downscale delay 10 s), then keeps `--clients` analyses of the fixture video in flight
until both deployments have scaled up (or `--max-burst-s` passes), stops, and waits until both are back at their
minimum. Prints the RUNNING replicas of each deployment (and all replicas, STARTING included) every second, as
`serve status` reports them, and exits non-zero if either deployment did not go above its minimum or did not come
back to it.

    flock /tmp/softskills-ray.lock .venv/bin/python -m benchmarks.cluster_autoscale [--clients 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from testkit.ray_cluster import MODEL_AUTOSCALING, MODEL_DEPLOYMENTS, RayTestCluster

SHORT_NAMES = {"SpeechToTextDeployment": "speech", "FaceLandmarksDeployment": "face"}


@dataclass(frozen=True)
class ReplicaSample:
    t_s: float
    phase: str  # "idle" before the burst, "burst" while the clients post, "quiet" after
    running: dict[str, int]
    total: dict[str, int]


@dataclass
class AutoscaleRun:
    samples: list[ReplicaSample] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    burst_s: float = 0.0
    settle_s: float = 0.0

    def peak_running(self, deployment: str) -> int:
        return max(s.running[deployment] for s in self.samples)

    def final(self) -> ReplicaSample:
        return self.samples[-1]

    def phase(self, name: str) -> list[ReplicaSample]:
        return [s for s in self.samples if s.phase == name]

    def first_time(self, deployment: str, running: int, phase: str) -> float | None:
        """When `deployment` first had `running` RUNNING replicas in that phase."""
        return next((s.t_s for s in self.samples if s.phase == phase and s.running[deployment] == running), None)


def _sample(cluster: RayTestCluster, started: float, phase: str) -> ReplicaSample:
    counts = cluster.replica_counts()
    return ReplicaSample(
        round(time.monotonic() - started, 1),
        phase,
        {d: counts[d].get("RUNNING", 0) for d in MODEL_DEPLOYMENTS},
        {d: sum(counts[d].values()) for d in MODEL_DEPLOYMENTS},
    )


def sample_line(sample: ReplicaSample) -> str:
    return f"{sample.t_s:7.1f} s  {sample.phase:5}  " + "   ".join(
        f"{SHORT_NAMES[d]} {sample.running[d]} running ({sample.total[d]} in all)" for d in MODEL_DEPLOYMENTS
    )


def _at_min(sample: ReplicaSample) -> bool:
    return all(sample.running[d] == sample.total[d] == MODEL_AUTOSCALING["min_replicas"] for d in MODEL_DEPLOYMENTS)


def _sample_until(
    cluster: RayTestCluster, run: AutoscaleRun, started: float, phase: str, done, timeout_s: float, echo
) -> float:
    """Samples every second until done(sample) or timeout_s; returns the seconds it took."""
    phase_started = time.monotonic()
    while True:
        run.samples.append(_sample(cluster, started, phase))
        echo(sample_line(run.samples[-1]))
        if done(run.samples[-1]) or time.monotonic() - phase_started > timeout_s:
            return time.monotonic() - phase_started
        time.sleep(1)


def run_burst(
    cluster: RayTestCluster,
    video_path: str,
    clients: int = 6,
    max_burst_s: float = 150,
    settle_timeout_s: float = 120,
    echo=print,
) -> AutoscaleRun:
    """From min_replicas (waiting for it first), keeps `clients` analyses in flight until every model deployment
    has max_replicas RUNNING (or max_burst_s), then waits, still sampling, until each is back at min_replicas with
    nothing else starting or stopping."""
    run, stop, lock = AutoscaleRun(), threading.Event(), threading.Lock()

    def client() -> None:
        while not stop.is_set():
            status = cluster.service.post("/api/v1/analyze-video", video_path).status_code
            with lock:
                run.statuses[status] += 1

    started = time.monotonic()
    _sample_until(cluster, run, started, "idle", _at_min, settle_timeout_s, echo)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    high = MODEL_AUTOSCALING["max_replicas"]
    run.burst_s = _sample_until(
        cluster,
        run,
        started,
        "burst",
        lambda s: all(s.running[d] >= high for d in MODEL_DEPLOYMENTS),
        max_burst_s,
        echo,
    )
    stop.set()  # the requests in flight finish; no new ones start
    run.settle_s = _sample_until(cluster, run, started, "quiet", _at_min, settle_timeout_s, echo)
    for thread in threads:
        thread.join()
    return run


def summary(run: AutoscaleRun) -> list[str]:
    """The burst, then one line per deployment: minimum, peak and final RUNNING replicas, and when."""
    low, high = MODEL_AUTOSCALING["min_replicas"], MODEL_AUTOSCALING["max_replicas"]
    answers = ", ".join(f"{n} x {status}" for status, n in sorted(run.statuses.items()))
    lines = [
        f"burst from {run.phase('burst')[0].t_s:.0f} s for {run.burst_s:.0f} s ({answers}); "
        f"back at min {run.settle_s:.0f} s after it ended"
    ]
    for deployment in MODEL_DEPLOYMENTS:
        up, down = run.first_time(deployment, high, "burst"), run.first_time(deployment, low, "quiet")
        lines.append(
            f"{SHORT_NAMES[deployment]}: {low} RUNNING before, peak {run.peak_running(deployment)}"
            + (f" (reached at {up:.0f} s)" if up is not None else "")
            + f", {run.final().running[deployment]} at the end"
            + (f" (back at {low} at {down:.0f} s)" if down is not None else "")
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=6, help="analyses kept in flight during the burst")
    parser.add_argument("--max-burst-s", type=float, default=150)
    args = parser.parse_args()

    from testkit.postgres_server import TEST_DATABASE_URL_ENV, find_postgres_bin_dir, throwaway_postgres
    from testkit.ray_cluster import running_cluster
    from testkit.videos import FIXTURE_DIR, fixture_set

    video = fixture_set(FIXTURE_DIR)["script_mp4"].path
    existing, bin_dir = os.environ.get(TEST_DATABASE_URL_ENV), find_postgres_bin_dir()
    if not existing and bin_dir is None:
        print(f"needs PostgreSQL (make system-deps) or {TEST_DATABASE_URL_ENV}", file=sys.stderr)
        return 2
    database = nullcontext(existing) if existing else throwaway_postgres(bin_dir)
    with tempfile.TemporaryDirectory(prefix="softskills-cluster-") as tmp:
        with database as url, running_cluster(Path(tmp), url) as cluster:
            names = cluster.node_names()
            for replica in sorted(cluster.replicas(), key=lambda r: r.deployment):
                print(f"{replica.deployment:24} {replica.state:8} on {names.get(replica.node_id, replica.node_id)}")
            print(f"autoscaling_config of speech and face: {MODEL_AUTOSCALING}")
            run = run_burst(cluster, video, clients=args.clients, max_burst_s=args.max_burst_s)
    print("\n".join(summary(run)))
    low = MODEL_AUTOSCALING["min_replicas"]
    ok = all(run.peak_running(d) > low and run.final().running[d] == low for d in MODEL_DEPLOYMENTS)
    print("PASS: both scaled up and back down" if ok else "FAIL: a deployment did not scale up and back down")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
