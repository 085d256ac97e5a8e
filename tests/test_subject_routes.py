"""The subject routes in-process (no Ray), on SQLite and PostgreSQL: an owner's subjects and each subject's series
paged, erasure that leaves no row, the owner's transcript setting, and another owner's subject answering exactly
what a missing one answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from softskills.api.app import build_api
from softskills.api.intake import ApiKeys, Intake
from softskills.api.limits import Uploads
from softskills.api.routes.subjects import SubjectRoutes
from softskills.auth.service import Authenticator
from softskills.auth.store import KeyStore
from softskills.config.options import HttpOptions, SubjectOptions
from softskills.models.progress import Session
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SubjectStore
from testkit.postgres_server import postgres_url  # noqa: F401
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock, store_url  # noqa: F401

OPTIONS = SubjectOptions(max_subjects_per_owner=3, max_sessions_per_subject=4)


class SubjectApi:
    def __init__(self, url: str, clock):  # noqa: F811
        self.url, self.clock = url, clock
        self.keys = KeyStore(url, pepper=TEST_PEPPER, clock=clock)
        self.sessions = SubjectSessions(SubjectStore(url, clock=clock), OPTIONS)
        self.observed: list[tuple[str, int]] = []
        http = HttpOptions()
        intake = Intake(
            http,
            False,
            ApiKeys(Authenticator(self.keys, cache_ttl_s=0, clock=clock)),
            Uploads(http),
            lambda endpoint, status, seconds: self.observed.append((endpoint, status)),
        )
        self.client = TestClient(build_api(http, None, None, None, SubjectRoutes(self.sessions, intake)))

    def key(self, owner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys.create_key(owner, 'test', None)[0]}"}

    def keep(self, owner: str, subject: str, fillers: float, overall: float = 70.0) -> None:
        self.clock.advance(timedelta(hours=1))
        self.sessions.store.add(
            owner,
            subject,
            Session({"filler_rate_per_min": fillers, "pace_wpm": 150.0}, {"clarity": 7.0, "overall": overall}),
            params_version="2.4",
            source="api",
            transcript=None,
            limits=self.sessions.limits,
        )

    def rows(self, subject: str) -> int:
        engine = create_engine(self.url)
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM subject_sessions WHERE subject = :s"), {"s": subject}
            ).scalar()
        engine.dispose()
        return count


@pytest.fixture
def api(store_url, clock):  # noqa: F811
    return SubjectApi(store_url, clock)


def test_an_owners_subjects_are_paged_in_name_order(api):
    alice = api.key("alice")
    for subject in ("carl", "ana", "ben"):
        api.keep("alice", subject, 5.0)
    api.keep("alice", "ana", 4.0)
    first = api.client.get("/api/v1/subjects", params={"limit": 2}, headers=alice).json()
    assert [(s["subject"], s["sessions"]) for s in first["subjects"]] == [("ana", 2), ("ben", 1)]
    assert first["subjects"][0]["links"]["progress"] == "/api/v1/subjects/ana/progress"
    assert first["subjects"][0]["first_at"] < first["subjects"][0]["last_at"]
    rest = api.client.get("/api/v1/subjects", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice).json()
    assert [s["subject"] for s in rest["subjects"]] == ["carl"] and rest["next_cursor"] is None
    assert ("list-subjects", 200) in api.observed


def test_a_subjects_series_comes_newest_first_a_page_at_a_time(api):
    alice = api.key("alice")
    for fillers, overall in ((6.0, 60.0), (5.0, 65.0), (4.0, 70.0)):
        api.keep("alice", "ana", fillers, overall)
    page = api.client.get("/api/v1/subjects/ana/progress", params={"limit": 2}, headers=alice).json()
    assert [p["value"] for p in page["series"]["filler_rate_per_min"]] == [4.0, 5.0]
    assert [p["value"] for p in page["series"]["overall"]] == [70.0, 65.0]
    assert [p["session"] for p in page["series"]["clarity"]] == [s["id"] for s in page["sessions"]]
    assert page["sessions"][0]["source"] == "api" and page["sessions"][0]["transcript"] is None
    older = api.client.get(
        "/api/v1/subjects/ana/progress", params={"cursor": page["next_cursor"]}, headers=alice
    ).json()
    assert [p["value"] for p in older["series"]["filler_rate_per_min"]] == [6.0] and older["next_cursor"] is None


def test_another_owners_subject_is_a_404_like_a_missing_one(api):
    alice, bob = api.key("alice"), api.key("bob")
    api.keep("alice", "ana", 5.0)
    missing = api.client.get("/api/v1/subjects/nobody/progress", headers=alice)
    assert missing.status_code == 404
    for answer in (
        api.client.get("/api/v1/subjects/ana/progress", headers=bob),
        api.client.delete("/api/v1/subjects/ana", headers=bob),
        api.client.get("/api/v1/subjects/not%20an%20id/progress", headers=alice),
    ):
        assert (answer.status_code, answer.json()) == (404, missing.json())
    assert api.client.get("/api/v1/subjects", headers=bob).json() == {"subjects": [], "next_cursor": None}
    assert api.rows("ana") == 1  # bob's DELETE erased nothing
    assert api.client.get("/api/v1/subjects/ana/progress", headers={}).status_code == 401


def test_a_delete_erases_every_session_and_leaves_no_row(api):
    alice = api.key("alice")
    for fillers in (6.0, 5.0, 4.0):
        api.keep("alice", "ana", fillers)
    api.keep("alice", "ben", 5.0)
    erased = api.client.delete("/api/v1/subjects/ana", headers=alice)
    assert erased.status_code == 200 and erased.json() == {"subject": "ana", "deleted_sessions": 3}
    assert api.rows("ana") == 0 and api.rows("ben") == 1
    assert api.client.get("/api/v1/subjects/ana/progress", headers=alice).status_code == 404
    assert api.client.delete("/api/v1/subjects/ana", headers=alice).status_code == 404
    assert [s["subject"] for s in api.client.get("/api/v1/subjects", headers=alice).json()["subjects"]] == ["ben"]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "ses_short"}])
def test_a_bad_page_request_is_a_422_naming_the_parameter(api, query):
    alice = api.key("alice")
    api.keep("alice", "ana", 5.0)
    for path in ("/api/v1/subjects", "/api/v1/subjects/ana/progress"):
        if path == "/api/v1/subjects" and "cursor" in query:
            continue  # a subject id is its own cursor
        answer = api.client.get(path, params=query, headers=alice)
        assert answer.status_code == 422 and next(iter(query)) in answer.json()["detail"]


def test_the_owner_chooses_whether_transcripts_are_kept(api):
    alice, bob = api.key("alice"), api.key("bob")
    assert api.client.get("/api/v1/settings/subjects", headers=alice).json() == {"keep_transcripts": False}
    changed = api.client.put("/api/v1/settings/subjects", data={"keep_transcripts": "true"}, headers=alice)
    assert changed.status_code == 200 and changed.json() == {"keep_transcripts": True}
    assert api.sessions.store.keeps_transcripts("alice") and not api.sessions.store.keeps_transcripts("bob")
    assert api.client.get("/api/v1/settings/subjects", headers=bob).json() == {"keep_transcripts": False}
    for form in ({}, {"keep_transcripts": "maybe"}):
        refused = api.client.put("/api/v1/settings/subjects", data=form, headers=alice)
        assert refused.status_code == 422 and "keep_transcripts" in refused.json()["detail"]
