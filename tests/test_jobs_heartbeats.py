"""A running job's lease (jobs/runner.py) when its database misbehaves: a renewal that fails is logged and tried
again, so a brief outage costs nothing; a lease that cannot be renewed before it could lapse stops the attempt, so
the job is taken over once and never finished by two attempts. The analysis is a stand-in that takes a set time
(the lease is what is under test); the store, the video store and the database are real."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from softskills.auth.store import KeyStore
from softskills.config.options import SubjectOptions
from softskills.jobs.runner import JobRequest, JobRunner, Outcome, RunOptions
from softskills.jobs.store import JobStore, NewJob, Result, Summary
from softskills.models.pipeline import AnalysisInput
from softskills.storage.factory import VideoStorage
from softskills.storage.local import LocalVideoStore
from softskills.storage.quota import VideoLedger, VideoQuota
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SubjectStore
from tests.auth_support import TEST_PEPPER, clean_auth_env  # noqa: F401

HEARTBEAT_S = 0.25
LEASE = timedelta(seconds=1.5)
BODY = {"overall_score": 70, "category_scores": {"clarity": 7.0}}


class TimedAnalysis:
    """Stands in for the pipeline: an analysis that takes `seconds`, counting those that finish and those
    cancelled."""

    def __init__(self, seconds: float):
        self.seconds, self.finished, self.cancelled = seconds, 0, 0

    async def analyze(self, upload, analysis_input, keep_video=None, earlier=None):
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return "analysis"


class Replica:
    """A consumer replica: its own store (whose heartbeats can be made to fail) and runner, on a shared database."""

    def __init__(self, url: str, videos: VideoStorage, analysis: TimedAnalysis):
        self.store, self.analysis = JobStore(url), analysis

        async def notify(job):
            pass

        self.runner = JobRunner(
            self.store,
            analysis,
            videos,
            answer=lambda analysis, request: Result(BODY, Summary(70, {"clarity": 7.0})),
            classify=lambda exc: (500, type(exc).__name__),
            notify=notify,
            options=RunOptions(3, 600, HEARTBEAT_S, LEASE, timedelta(days=30)),
            subjects=SubjectSessions(SubjectStore(url), SubjectOptions()),
        )

    def failing_heartbeats(self, failures: int | None) -> list[float]:
        """The next `failures` lease renewals (every one, for None) raise a database error; returns when each
        renewal was tried."""
        renew, tried = self.store.heartbeat, []

        def heartbeat(job_id, attempt):
            tried.append(time.monotonic())
            if failures is None or len(tried) <= failures:
                raise OperationalError("UPDATE jobs SET heartbeat_at=?", {}, Exception("database is locked"))
            return renew(job_id, attempt)

        self.store.heartbeat = heartbeat
        return tried


@pytest.fixture
def shared(tmp_path, talking_head):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    KeyStore(url, pepper=TEST_PEPPER)
    videos = VideoStorage(
        LocalVideoStore(tmp_path / "videos", b"k" * 32, 3600),
        VideoLedger(url, VideoQuota(10**9, 10**10, 0), 3600),
        None,
        purge_interval_s=3600,
    )
    with open(talking_head.path, "rb") as upload:
        kept = videos.keep_upload(upload, "alice", 3600)
    job = JobStore(url).create(
        NewJob(
            "alice",
            "analyze-video",
            JobRequest("analyze-video", AnalysisInput()).to_json(),
            "http://api/",
            kept.object_id,
            kept.reservation,
        ),
        timedelta(days=1),
    )
    return url, videos, job.id


def test_a_brief_database_outage_does_not_stop_the_heartbeats(shared, caplog):
    url, videos, job_id = shared
    replica = Replica(url, videos, TimedAnalysis(3.5))
    tried = replica.failing_heartbeats(2)
    takeover = JobStore(url)

    async def run_while_another_replica_tries_to_take_over():
        running = asyncio.ensure_future(replica.runner.run(job_id))
        takeovers = []
        for at_s in (2.0, 3.0):  # past the lease, counted from the claim
            await asyncio.sleep(at_s - (1.0 if takeovers else 0.0))
            takeovers.append(await asyncio.to_thread(takeover.claim, job_id, LEASE))
        return await running, takeovers

    outcome, takeovers = asyncio.run(run_while_another_replica_tries_to_take_over())
    assert takeovers == [None, None]  # the lease was renewed after the outage
    assert outcome == (Outcome.FINISHED, None) and len(tried) > 4
    done = replica.store.get("alice", job_id)
    assert (done.status, done.attempts, done.result) == ("succeeded", 1, BODY)
    assert caplog.text.count("could not renew its lease: OperationalError") == 2
    assert "database is locked" in caplog.text  # with its traceback


def test_a_lease_that_cannot_be_renewed_stops_the_attempt_and_the_job_is_taken_over_once(shared, caplog):
    url, videos, job_id = shared
    caplog.set_level(logging.INFO)
    analysis = TimedAnalysis(5.0)
    cut_off, healthy = Replica(url, videos, analysis), Replica(url, videos, analysis)
    cut_off.failing_heartbeats(None)
    began = time.monotonic()
    assert asyncio.run(cut_off.runner.run(job_id)) == (Outcome.SKIPPED, None)
    stopped_after_s = time.monotonic() - began
    assert stopped_after_s < LEASE.total_seconds()  # before its lease could lapse, well before the analysis's end
    assert (analysis.finished, analysis.cancelled) == (0, 1)
    assert "stops: its lease, last renewed" in caplog.text
    assert healthy.store.get("alice", job_id).status == "running"  # nothing was finished
    time.sleep(LEASE.total_seconds() - stopped_after_s + 0.1)
    assert healthy.store.jobs_to_enqueue(LEASE, timedelta(minutes=30)) == [job_id]  # the sweep puts it back
    analysis.seconds = 0.1
    assert asyncio.run(healthy.runner.run(job_id)) == (Outcome.FINISHED, None)
    done = healthy.store.get("alice", job_id)
    assert (done.status, done.attempts, done.result) == ("succeeded", 2, BODY) and analysis.finished == 1
