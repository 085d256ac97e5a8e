"""The Reports tab's history in-process (no Ray): each dashboard upload's answer is kept, the account's jobs and
uploads are listed with their status, a stored report reopens, the progress chart's points are a subject's stored
sessions' scores over time (the store GET /api/v1/subjects/{subject}/progress reads), and another account sees none
of it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import Request

from softskills.api.responses import FullAnalysis, answer_of
from softskills.dashboard import routes
from softskills.jobs.store import JobStore, NewJob, Result, Summary
from softskills.models.errors import InvalidMedia
from softskills.models.progress import Session
from softskills.subjects.store import SubjectLimits, SubjectStore
from tests.auth_support import clean_auth_env, clock  # noqa: F401
from tests.test_dashboard import Dashboard

# A real full-analysis answer of the service (written by `make samples`), as the ingress pipeline returns it.
SAMPLE = json.loads((Path(__file__).parent.parent / "docs" / "sample-full-analysis.json").read_text())


class ReportingDashboard(Dashboard):
    """The dashboard with its report history on, the upload pipeline answering the sample (or failing as told)."""

    def __init__(self, tmp_path, clock):  # noqa: F811
        super().__init__(tmp_path, clock)
        self.jobs = JobStore(f"sqlite:///{tmp_path / 'dashboard.db'}", clock=clock)
        self.subjects = SubjectStore(f"sqlite:///{tmp_path / 'dashboard.db'}", clock=clock)
        self.fail_next: Exception | None = None
        self.app.state.dashboard = routes.DashboardBackend(
            self.accounts,
            self.keys,
            self._analyze,
            clock=clock,
            reports=self.jobs,
            reports_retention=timedelta(days=30),
            subjects=self.subjects,
        )

    async def _analyze(self, request: Request, owner: str) -> Result:
        await request.form()
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        return answer_of(FullAnalysis.model_validate(SAMPLE))


@pytest.fixture
def dashboard(tmp_path, clock):  # noqa: F811
    from tests.test_dashboard import PASSWORD

    board = ReportingDashboard(tmp_path, clock)
    for email in ("alice@example.com", "bob@example.com"):
        board.accounts.create_account(email, PASSWORD)
    return board


def upload(client, status=200):
    token = re.search(
        r'<meta name="csrf-token" content="([0-9a-f]{64})">', client.get("/dashboard/reports").text
    ).group(1)
    response = client.post(
        "/dashboard/reports/analyze",
        files={"video": ("talk.mp4", b"\x00" * 64, "video/mp4")},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == status
    return response


def history(client) -> list[dict]:
    html = client.get("/dashboard/reports").text
    return [
        {"id": rid, "cells": [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]}
        for rid, row in re.findall(r'<tr data-report="([^"]+)">(.*?)</tr>', html, re.S)
    ]


def test_uploads_and_jobs_are_kept_listed_and_reopened(dashboard, clock):  # noqa: F811
    alice = dashboard.signed_in("alice@example.com")
    assert history(alice) == [] and "No reports yet" in alice.get("/dashboard/reports").text
    upload(alice)
    clock.advance(timedelta(minutes=1))
    dashboard.fail_next = InvalidMedia("The uploaded file is empty.")
    upload(alice, status=422)
    clock.advance(timedelta(minutes=1))
    job = dashboard.jobs.create(
        NewJob("alice@example.com", "analyze-video", {}, "http://api/", "obj", None), timedelta(days=1)
    )
    dashboard.jobs.claim(job.id, timedelta(seconds=60))
    later = dict(
        SAMPLE["video_analysis"],
        overall_score=81,
        category_scores={"likeability": 7.0, "authenticity": 6.0, "clarity": 9.5, "confidence": 8.8},
    )
    dashboard.jobs.succeed(job.id, 1, later, Summary(81, later["category_scores"]), timedelta(days=30))

    rows = history(alice)
    assert [r["cells"][1:5] for r in rows] == [
        ["Job", "analyze-video", "succeeded", "81"],
        ["Upload", "full-analysis", "failed", "–"],
        ["Upload", "full-analysis", "succeeded", str(SAMPLE["video_analysis"]["overall_score"])],
    ]
    assert 'title="The uploaded file is empty."' in alice.get("/dashboard/reports").text

    reopened = alice.get(f"/dashboard/reports/{rows[2]['id']}")
    assert reopened.status_code == 200 and f'data-source="/dashboard/reports/{rows[2]["id"]}/data"' in reopened.text
    stored = alice.get(f"/dashboard/reports/{rows[2]['id']}/data").json()
    assert stored["status"] == "succeeded" and stored["result"] == SAMPLE
    assert alice.get(f"/dashboard/reports/{rows[0]['id']}/data").json()["result"] == later


def keep_session(dashboard, owner: str, subject: str, overall: float, categories: dict[str, float]) -> None:
    dashboard.clock.advance(timedelta(minutes=1))
    dashboard.subjects.add(
        owner,
        subject,
        Session({"pace_wpm": 150.0}, {**categories, "overall": overall}),
        params_version="2.4",
        source="dashboard",
        transcript=None,
        limits=SubjectLimits(10, 10, timedelta(days=30)),
    )


def test_the_progress_chart_reads_a_subjects_sessions(dashboard):
    """The chart's points are one subject's stored sessions, oldest first: the named one, or by default the subject
    with the latest session; the account's subjects are offered in name order."""
    alice = dashboard.signed_in("alice@example.com")
    assert alice.get("/dashboard/reports/progress").json() == {"subjects": [], "subject": None, "points": []}
    categories = SAMPLE["video_analysis"]["category_scores"]
    keep_session(dashboard, "alice@example.com", "interview", 70, categories)
    keep_session(dashboard, "alice@example.com", "interview", 81, {**categories, "clarity": 9.5})
    keep_session(dashboard, "alice@example.com", "pitch", 60, categories)

    latest = alice.get("/dashboard/reports/progress").json()
    assert latest["subjects"] == ["interview", "pitch"] and latest["subject"] == "pitch"
    assert [p["overall_score"] for p in latest["points"]] == [60]
    points = alice.get("/dashboard/reports/progress", params={"subject": "interview"}).json()["points"]
    assert [p["overall_score"] for p in points] == [70, 81]  # oldest first
    assert points[0]["category_scores"] == categories and points[1]["category_scores"]["clarity"] == 9.5
    assert points[1]["at"] > points[0]["at"]
    assert alice.get("/dashboard/reports/progress", params={"subject": "no/such"}).status_code == 404


def test_another_account_sees_none_of_it(dashboard):
    alice = dashboard.signed_in("alice@example.com")
    upload(alice)
    (report,) = history(alice)
    bob = dashboard.signed_in("bob@example.com")
    keep_session(dashboard, "alice@example.com", "interview", 70, {})
    assert history(bob) == []
    assert bob.get("/dashboard/reports/progress").json() == {"subjects": [], "subject": None, "points": []}
    assert bob.get("/dashboard/reports/progress", params={"subject": "interview"}).json()["points"] == []
    for path in (
        f"/dashboard/reports/{report['id']}",
        f"/dashboard/reports/{report['id']}/data",
        "/dashboard/reports/job_" + "x" * 22,
        "/dashboard/reports/not-a-report",
    ):
        assert bob.get(path).status_code == 404
    anonymous = dashboard.client()
    assert anonymous.get("/dashboard/reports/progress").status_code == 401
    assert anonymous.get(f"/dashboard/reports/{report['id']}", follow_redirects=False).status_code == 303


def test_reports_past_retention_are_deleted_with_jobs_off():
    """The consumers' sweep, the only purge there was, does not run when jobs are off: each ingress replica's own
    purge deletes a report past its retention, on the sweep's schedule, and keeps the others."""
    import time

    from softskills.config.options import JobOptions
    from softskills.db.engine import database_url
    from softskills.jobs.sweeper import start_retention_purge

    store = JobStore(database_url())
    past = store.record_report(
        "alice@example.com", "full-analysis", SAMPLE, Summary(80, {}), None, timedelta(0), {"analysis": "full-analysis"}
    )
    kept = store.record_report(
        "alice@example.com",
        "full-analysis",
        SAMPLE,
        Summary(80, {}),
        None,
        timedelta(days=30),
        {"analysis": "full-analysis"},
    )
    purge = start_retention_purge(store, JobOptions(enabled=False, sweep_interval_s=0.05).sweep_interval_s)
    try:
        deadline = time.monotonic() + 10
        while [r.id for r in store.history("alice@example.com", 10)] != [kept.id] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        purge.stop()
    assert [r.id for r in store.history("alice@example.com", 10)] == [kept.id]
    assert past.id != kept.id
