"""The subjects' sessions (subjects/store.py) on SQLite and PostgreSQL: owners apart, the latest sessions for
progress, the bounds, pages, erasure at once, retention and the owner's transcript setting. Times move by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from softskills.models.progress import Session
from softskills.subjects.errors import InvalidSubject, SubjectNotFound, TooManySubjects
from softskills.subjects.store import SubjectLimits, SubjectStore, checked_subject, is_session_id
from testkit.postgres_server import postgres_url  # noqa: F401
from tests.auth_support import TEST_PEPPER, clean_auth_env, clock, store_url  # noqa: F401

LIMITS = SubjectLimits(max_subjects=3, max_sessions=4, retention=timedelta(days=30))
HOUR = timedelta(hours=1)


@pytest.fixture
def subjects(store_url, clock):  # noqa: F811
    return SubjectStore(store_url, clock=clock)


def take(fillers: float, overall: float = 70.0) -> Session:
    return Session(
        metrics={"filler_rate_per_min": fillers, "pace_wpm": 150.0}, scores={"clarity": 7.0, "overall": overall}
    )


def add(store, clock, owner="alice", subject="ana", fillers=5.0, limits=LIMITS, transcript=None):
    clock.advance(HOUR)
    return store.add(
        owner, subject, take(fillers), params_version="2.4", source="api", transcript=transcript, limits=limits
    )


def rows_of(url: str, subject: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM subject_sessions WHERE subject = :s"), {"s": subject}
        ).scalar()
    engine.dispose()
    return count


def test_subject_ids_are_checked():
    assert checked_subject("ana.b-2_x") == "ana.b-2_x" and checked_subject("x" * 64) == "x" * 64
    for bad in ("", "x" * 65, "ana b", "ana/../b", "ñ", "ana\n"):
        with pytest.raises(InvalidSubject, match="1 to 64 characters"):
            checked_subject(bad)


def test_the_latest_sessions_come_back_oldest_first_with_what_was_stored(subjects, clock):
    first = add(subjects, clock, fillers=6.0)
    add(subjects, clock, fillers=5.0)
    add(subjects, clock, fillers=4.0)
    earlier = subjects.earlier("alice", "ana", limit=2)
    assert [s.metrics["filler_rate_per_min"] for s in earlier] == [5.0, 4.0]
    assert earlier[0].at < earlier[1].at and earlier[1].at == clock.now
    assert earlier[0].scores == {"clarity": 7.0, "overall": 70.0}
    assert is_session_id(first.id) and first.params_version == "2.4" and first.transcript is None


def test_owners_never_meet(subjects, clock):
    add(subjects, clock, owner="alice", subject="ana")
    assert subjects.earlier("bob", "ana", limit=10) == []
    with pytest.raises(SubjectNotFound):
        subjects.sessions("bob", "ana", limit=10)
    with pytest.raises(SubjectNotFound):
        subjects.delete("bob", "ana")
    assert subjects.subjects("bob", limit=10) == ([], False)
    assert len(subjects.sessions("alice", "ana", limit=10)[0]) == 1  # bob's attempts erased nothing


def test_a_subject_keeps_its_latest_sessions(subjects, clock, store_url):  # noqa: F811
    for fillers in (9.0, 8.0, 7.0, 6.0, 5.0, 4.0):
        add(subjects, clock, fillers=fillers)
    kept = subjects.earlier("alice", "ana", limit=10)
    assert [s.metrics["filler_rate_per_min"] for s in kept] == [7.0, 6.0, 5.0, 4.0]
    assert rows_of(store_url, "ana") == LIMITS.max_sessions


def test_an_owner_keeps_a_bounded_number_of_subjects(subjects, clock):
    for name in ("a", "b", "c"):
        add(subjects, clock, subject=name)
    subjects.check_room("alice", "a", LIMITS.max_subjects)  # a known subject always has room
    with pytest.raises(TooManySubjects, match="3 subjects"):
        subjects.check_room("alice", "d", LIMITS.max_subjects)
    with pytest.raises(TooManySubjects):
        add(subjects, clock, subject="d")
    add(subjects, clock, owner="bob", subject="d")  # the bound is per owner
    subjects.delete("alice", "c")
    add(subjects, clock, subject="d")


def test_subjects_are_paged_in_name_order_with_counts_and_times(subjects, clock):
    for name in ("carl", "ana", "ben", "ana"):
        add(subjects, clock, subject=name)
    page, more = subjects.subjects("alice", limit=2)
    assert [(s.subject, s.sessions) for s in page] == [("ana", 2), ("ben", 1)] and more
    assert page[0].first_at < page[0].last_at and page[0].last_at.tzinfo is not None
    rest, more = subjects.subjects("alice", limit=2, after="ben")
    assert [s.subject for s in rest] == ["carl"] and not more


def test_sessions_are_paged_newest_first(subjects, clock):
    stored = [add(subjects, clock, fillers=f) for f in (3.0, 2.0, 1.0)]
    page, more = subjects.sessions("alice", "ana", limit=2)
    assert [s.id for s in page] == [stored[2].id, stored[1].id] and more
    rest, more = subjects.sessions("alice", "ana", limit=2, before=page[-1].id)
    assert [s.id for s in rest] == [stored[0].id] and not more
    with pytest.raises(SubjectNotFound):
        subjects.sessions("alice", "ana", limit=2, before="ses_" + "A" * 16)  # not one of its sessions


def test_a_delete_erases_every_session_of_the_subject_at_once(subjects, clock, store_url):  # noqa: F811
    for _ in range(3):
        add(subjects, clock, subject="ana")
    add(subjects, clock, subject="ben")
    assert subjects.delete("alice", "ana") == 3
    assert rows_of(store_url, "ana") == 0 and rows_of(store_url, "ben") == 1
    with pytest.raises(SubjectNotFound):
        subjects.sessions("alice", "ana", limit=10)
    with pytest.raises(SubjectNotFound):
        subjects.delete("alice", "ana")


def test_sessions_expire_after_the_retention(subjects, clock):
    add(subjects, clock, fillers=2.0)
    clock.advance(LIMITS.retention - 2 * HOUR)
    add(subjects, clock, fillers=1.0)
    assert subjects.purge() == 0
    clock.advance(HOUR)
    assert subjects.purge() == 1
    assert [s.metrics["filler_rate_per_min"] for s in subjects.earlier("alice", "ana", 10)] == [1.0]


def test_transcripts_are_kept_only_when_the_owner_says_so(subjects, clock):
    assert not subjects.keeps_transcripts("alice")
    subjects.set_keep_transcripts("alice", True)
    assert subjects.keeps_transcripts("alice") and not subjects.keeps_transcripts("bob")
    kept = add(subjects, clock, transcript="Hello there.")
    assert subjects.sessions("alice", "ana", 1)[0][0].transcript == "Hello there." == kept.transcript
    subjects.set_keep_transcripts("alice", False)
    assert not subjects.keeps_transcripts("alice")
