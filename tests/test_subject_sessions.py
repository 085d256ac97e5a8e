"""What a request's `subject` does around its analysis (subjects/service.py), without Ray: nothing is read or kept
without a subject, a new subject beyond the owner's limit is refused before any work, and a kept session holds the
measurements and scores (the transcript only when the owner keeps transcripts), under its owner only."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest

from softskills.config.options import SubjectOptions
from softskills.models.interpretation.model import interpret
from softskills.models.pipeline import Analysis
from softskills.subjects.errors import TooManySubjects
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SubjectStore
from tests.auth_support import clean_auth_env  # noqa: F401
from tests.test_interpretation import GOOD, measured

SPOKEN = "Thank you for having me today."


def analysis(earlier=(), values=None) -> Analysis:
    """An analysis as the pipeline makes it for a request with a subject (`earlier` given) or without (None)."""
    measurements = measured(values)
    signals = SimpleNamespace(full_transcript=SimpleNamespace(text=SPOKEN))  # all `keep` reads of the signals
    return Analysis(signals, measurements, interpret(measurements, earlier=earlier))


@pytest.fixture
def sessions(tmp_path) -> SubjectSessions:
    return SubjectSessions(
        SubjectStore(f"sqlite:///{tmp_path / 'subjects.db'}"),
        SubjectOptions(max_subjects_per_owner=2, history_sessions=3),
    )


def test_without_a_subject_nothing_is_read_or_kept(sessions):
    assert asyncio.run(sessions.earlier("alice", None)) is None
    assert asyncio.run(sessions.keep("alice", None, analysis(), "api")) is None
    stateless = analysis(earlier=None)
    assert stateless.interpretation.personal is None
    assert asyncio.run(sessions.keep("alice", "ana", stateless, "api")) is None
    failed = replace(analysis(), interpretation=None, interpretation_failure="engine down")
    assert asyncio.run(sessions.keep("alice", "ana", failed, "api")) is None
    assert sessions.store.subjects("alice", 10) == ([], False)


def test_a_kept_session_is_read_back_as_the_next_analysis_earlier_sessions(sessions):
    for fillers in (9.0, 8.0, 7.0, 6.0):
        earlier = asyncio.run(sessions.earlier("alice", "ana"))
        kept = asyncio.run(
            sessions.keep("alice", "ana", analysis(earlier, {**GOOD, "filler_rate_per_min": fillers}), "job")
        )
    assert kept.source == "job" and kept.transcript is None and kept.metrics == {**GOOD, "filler_rate_per_min": 6.0}
    assert set(kept.scores) == {"clarity", "confidence", "likeability", "authenticity", "overall"}
    latest = asyncio.run(sessions.earlier("alice", "ana"))  # the latest history_sessions, oldest first
    assert [s.metrics["filler_rate_per_min"] for s in latest] == [8.0, 7.0, 6.0]
    assert asyncio.run(sessions.earlier("bob", "ana")) == ()


def test_the_transcript_is_kept_only_when_the_owner_says_so(sessions):
    sessions.store.set_keep_transcripts("alice", True)
    assert asyncio.run(sessions.keep("alice", "ana", analysis(), "api")).transcript == SPOKEN
    assert asyncio.run(sessions.keep("bob", "ana", analysis(), "api")).transcript is None


def test_a_subject_beyond_the_owners_limit_is_refused_before_the_analysis(sessions):
    for subject in ("ana", "ben"):
        asyncio.run(sessions.keep("alice", subject, analysis(), "api"))
    with pytest.raises(TooManySubjects, match="2 subjects"):
        asyncio.run(sessions.earlier("alice", "carl"))
    assert len(asyncio.run(sessions.earlier("alice", "ana"))) == 1  # a known subject still has room
    assert asyncio.run(sessions.earlier("bob", "carl")) == ()  # another owner's limit is their own


def test_a_session_that_cannot_be_kept_leaves_the_answer_standing_and_is_logged(sessions, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    def database_down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("the database is down"))

    monkeypatch.setattr(sessions.store, "add", database_down)
    with caplog.at_level("ERROR", logger="ray.serve"):
        assert asyncio.run(sessions.keep("alice", "ana", analysis(), "api")) is None
    assert "session was not kept: OperationalError" in caplog.text
