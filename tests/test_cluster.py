"""Integration, multi-node: the application on a Ray cluster of a head and two worker nodes on this machine
(testkit/ray_cluster.py), with one PostgreSQL key store and one video directory shared by every node.

Replicas of each model deployment sit on different nodes and requests are served across them; a burst scales speech
and face up and the quiet after it back down; removing a worker node while requests are in flight loses at most the
requests that node was working on, each answered with the guide's JSON error, and every other request, and every
request after Serve has rescheduled the lost replicas, succeeds. The tests share one cluster and run in file order:
the node-loss test, which destroys a worker, comes last.

    .venv/bin/python -m pytest -q -m cluster -s      # -s prints placement, replica counts and the node-loss result
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from benchmarks.cluster_autoscale import run_burst, sample_line, summary
from testkit.postgres_server import postgres_url  # noqa: F401  (fixture)
from testkit.ray_cluster import (
    MODEL_AUTOSCALING,
    MODEL_DEPLOYMENTS,
    RayTestCluster,
    request_ids_in_flight,
    requests_lost_with_a_replica,
    running_cluster,
    started_request_ids,
)

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

PACE_TOLERANCE = 0.15
RESCHEDULE_TIMEOUT_S = 240
SERVICE_ERROR = {"detail": "Video analysis service error. Try a different format (e.g. MP4 or WebM) or shorter video."}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_url, talking_head_videos) -> RayTestCluster:  # noqa: F811
    with running_cluster(tmp_path_factory.mktemp("cluster"), postgres_url) as running:
        yield running


def _post(cluster: RayTestCluster, video, request_id: str, path: str = "/api/v1/analyze-video", **kwargs):
    """Posts with our own X-Request-ID, which Serve keeps as the request's id in every replica's log lines."""
    return cluster.service.post(
        path,
        video.path,
        headers={"Authorization": f"Bearer {cluster.service.key}", "X-Request-ID": request_id},
        **kwargs,
    )


def _assert_measured(analysis: dict, video) -> None:
    """The values test_service.py checks: pace near the truth, the known 2.5 s pause found, the face seen."""
    assert abs(analysis["speaking_pace_wpm"] - video.pace_wpm) <= PACE_TOLERANCE * video.pace_wpm
    ((truth_start, truth_end),) = [p for p in video.pauses if p[1] - p[0] >= 2.0]
    assert any(
        abs(m["start_s"] - truth_start) < 0.5 and abs(m["end_s"] - truth_end) < 0.5
        for m in analysis["labeled_moments"]
        if m["type"] == "long_pause"
    )
    assert analysis["evidence_quality"]["face_visible_ratio"] >= 0.9
    assert 0 <= analysis["overall_score"] <= 100


def _model_replicas_by_node(cluster: RayTestCluster) -> dict[str, list[str]]:
    by_node: dict[str, list[str]] = {}
    for deployment in MODEL_DEPLOYMENTS:
        for replica in cluster.running(deployment):
            by_node.setdefault(replica.node_id, []).append(deployment)
    return by_node


def _spread_at_min(cluster: RayTestCluster, nodes: set[str]) -> bool:
    """Every model deployment at min_replicas, all RUNNING, each on a different one of these nodes."""
    for deployment in MODEL_DEPLOYMENTS:
        replicas = [r for r in cluster.replicas() if r.deployment == deployment]
        node_ids = [r.node_id for r in replicas]
        if (
            len(replicas) != MODEL_AUTOSCALING["min_replicas"]
            or any(r.state != "RUNNING" for r in replicas)
            or len(set(node_ids)) != len(node_ids)
            or not set(node_ids) <= nodes
        ):
            return False
    return True


def test_model_replicas_are_spread_over_nodes(cluster):
    names = cluster.node_names()
    assert len(names) == 3  # the head and two workers, each its own raylet
    for replica in cluster.replicas():
        print(f"{replica.deployment:24} {replica.state:8} on {names[replica.node_id]}")
    for deployment in MODEL_DEPLOYMENTS:
        nodes = [r.node_id for r in cluster.running(deployment)]
        assert len(nodes) == MODEL_AUTOSCALING["min_replicas"] and len(set(nodes)) == len(nodes), deployment
        assert set(nodes) <= set(names)
    for deployment in ("Ingress", "EngineDeployment"):
        assert [names[r.node_id] for r in cluster.running(deployment)] == ["head"]
    assert len(_model_replicas_by_node(cluster)) >= 2


def test_requests_are_served_across_nodes(cluster, talking_head):
    """Concurrent requests are analysed by replicas on more than one node; full-analysis keeps the upload in the
    shared video directory and the signed videoUrl serves it back."""
    ids = [f"spread-{i}" for i in range(3)]
    with ThreadPoolExecutor(len(ids)) as pool:
        responses = list(pool.map(lambda rid: _post(cluster, talking_head, rid), ids))
    for response in responses:
        assert response.status_code == 200, response.text
        _assert_measured(response.json(), talking_head)
    working_nodes = {
        r.node_id for d in MODEL_DEPLOYMENTS for r in cluster.running(d) if started_request_ids(r.log_file) & set(ids)
    }
    assert len(working_nodes) >= 2, "every call went to one node"

    response = _post(
        cluster, talking_head, "spread-full", "/api/v1/full-analysis", data={"context_phrase": "team results update"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    _assert_measured(body["video_analysis"], talking_head)
    assert {"morning", "results", "team"} <= {w.strip(".,!?").lower() for w in body["transcript"].split()}
    stored = list(cluster.video_dir.iterdir())
    assert len(stored) == 1 and stored[0].stat().st_size == Path(talking_head.path).stat().st_size
    served = httpx.get(body["videoUrl"], timeout=60)
    assert served.status_code == 200 and served.content == Path(talking_head.path).read_bytes()


def test_burst_scales_speech_and_face_up_and_back_down(cluster, talking_head):
    run = run_burst(cluster, talking_head.path)
    print("\n".join(summary(run)))
    assert set(run.statuses) == {200}, run.statuses
    low = MODEL_AUTOSCALING["min_replicas"]
    for deployment in MODEL_DEPLOYMENTS:
        assert run.phase("burst")[0].running[deployment] == low  # the burst starts from the minimum
        assert max(s.running[deployment] for s in run.phase("burst")) > low, "\n".join(map(sample_line, run.samples))
        assert run.final().running[deployment] == run.final().total[deployment] == low
    assert _spread_at_min(cluster, set(cluster.node_names()))


def test_losing_a_worker_under_load_loses_only_its_requests(cluster, talking_head):
    names = cluster.node_names()
    by_node = _model_replicas_by_node(cluster)
    victim_id = max((node for node in names if names[node] != "head"), key=lambda node: len(by_node.get(node, [])))
    victim = names[victim_id]
    victim_logs = [r.log_file for d in MODEL_DEPLOYMENTS for r in cluster.running(d) if r.node_id == victim_id]
    assert victim_logs, "no model replica on any worker"
    # Four analyses run and two wait at the ingress: six in flight.
    ids = [f"node-loss-{i}" for i in range(6)]
    finished_at: dict[str, float] = {}

    def post(request_id: str):
        response = _post(cluster, talking_head, request_id)
        finished_at[request_id] = time.monotonic()
        return response

    with ThreadPoolExecutor(len(ids)) as pool:
        futures = {rid: pool.submit(post, rid) for rid in ids}
        deadline = time.monotonic() + 120
        while not any(request_ids_in_flight(log) & set(ids) for log in victim_logs):
            assert time.monotonic() < deadline, "the victim node was never working on one of the requests"
            time.sleep(0.1)
        removed_at = time.monotonic()
        cluster.remove_worker(victim)
        responses = {rid: future.result() for rid, future in futures.items()}

    # The replicas' logs end where they died: calls started there and never finished were cut off. Requests that
    # had a call there, finished or not, and were still unanswered may also lose a result held in its object store.
    cut_off = set().union(*(request_ids_in_flight(log) for log in victim_logs)) & set(ids)
    on_victim = set().union(*(started_request_ids(log) for log in victim_logs)) & set(ids)
    unfinished_on_victim = {rid for rid in on_victim if finished_at[rid] > removed_at}
    # Only the victim's replicas died, so a failure the ingress logged as a call lost with a dead replica was a call
    # on the victim, even one sent there too late to be logged by it.
    lost_there = set().union(*(requests_lost_with_a_replica(r.log_file) for r in cluster.running("Ingress")))
    failed = {rid for rid, response in responses.items() if response.status_code != 200}
    print(
        f"removed {victim} (replicas: {', '.join(by_node[victim_id])}) with {len(ids)} requests in flight: "
        f"{len(cut_off)} had a call cut off there, {len(unfinished_on_victim)} unanswered had calls there, "
        f"{len(lost_there & set(ids))} lost a call with a dead replica (the ingress's log); "
        "failed: "
        + (
            ", ".join(
                f"{responses[rid].status_code} {finished_at[rid] - removed_at:.1f} s after the removal"
                for rid in sorted(failed)
            )
            or "none"
        )
        + f"; {len(ids) - len(failed)} answered 200, the last "
        f"{max(finished_at.values()) - removed_at:.1f} s after the removal"
    )
    assert failed <= unfinished_on_victim | (lost_there & set(ids))
    for rid in failed:
        response = responses[rid]
        assert response.status_code in (500, 503, 504), response.text
        assert response.headers["content-type"].startswith("application/json")
        detail = response.json()
        assert set(detail) == {"detail"}
        if response.status_code == 500:
            assert detail == SERVICE_ERROR
    for rid in set(ids) - failed:
        _assert_measured(responses[rid].json(), talking_head)

    survivors = set(cluster.node_names())
    took = cluster.wait_until(
        lambda: _spread_at_min(cluster, survivors), RESCHEDULE_TIMEOUT_S, "rescheduled on the nodes left"
    )
    print(
        f"lost replicas rescheduled {took:.0f} s after the node-loss requests were answered: "
        + "; ".join(
            f"{r.deployment} on {cluster.node_names()[r.node_id]}"
            for r in cluster.replicas()
            if r.deployment in MODEL_DEPLOYMENTS
        )
    )
    later = [f"after-loss-{i}" for i in range(3)]
    with ThreadPoolExecutor(len(later)) as pool:
        for response in pool.map(lambda rid: _post(cluster, talking_head, rid), later):
            assert response.status_code == 200, response.text
            _assert_measured(response.json(), talking_head)
