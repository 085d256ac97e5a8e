"""The subject API's bodies as pydantic models (so /openapi.json documents them), built here from subjects/store.py's
records. The `progress` of an analysis answer is api/responses.py's (ProgressBody)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from softskills.api.responses import Body, Number
from softskills.subjects.store import StoredSession, SubjectSummary

SUBJECTS_PATH = "/api/v1/subjects"
SETTINGS_PATH = "/api/v1/settings/subjects"


class SubjectLinks(Body):
    progress: str = Field(description="Every metric's series: GET it. DELETE /api/v1/subjects/{subject} erases it.")


class SubjectBody(Body):
    subject: str
    sessions: int = Field(description="Sessions kept (the latest subjects.max_sessions_per_subject).")
    first_at: datetime
    last_at: datetime
    links: SubjectLinks


class SubjectList(Body):
    subjects: list[SubjectBody] = Field(description="In name order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class SessionBody(Body):
    id: str
    at: datetime = Field(description="When the session was stored (its analysis finished).")
    source: str = Field(description="api (analyze-video or full-analysis), job, or dashboard (an upload).")
    params_version: str = Field(description="The interpretation parameters that scored it.")
    transcript: str | None = Field(description="Only when the owner keeps transcripts (PUT /api/v1/settings/subjects).")


class SeriesPoint(Body):
    session: str = Field(description="The session's id.")
    at: datetime
    value: Number


class SubjectProgress(Body):
    subject: str
    sessions: list[SessionBody] = Field(description="This page's sessions, newest first.")
    series: dict[str, list[SeriesPoint]] = Field(
        description="Every stored metric and score (the categories and `overall`) of this page's sessions, newest "
        "first; a session without a value of it has no point."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last one.")


class SubjectDeleted(Body):
    subject: str
    deleted_sessions: int


class SubjectSettings(Body):
    keep_transcripts: bool = Field(
        description="Whether the transcript is kept with each session of this owner's "
        "subjects (default false; the video never is)."
    )


def subject_list(summaries: list[SubjectSummary], more: bool) -> dict:
    return SubjectList(
        subjects=[
            SubjectBody(
                subject=s.subject,
                sessions=s.sessions,
                first_at=s.first_at,
                last_at=s.last_at,
                links=SubjectLinks(progress=f"{SUBJECTS_PATH}/{s.subject}/progress"),
            )
            for s in summaries
        ],
        next_cursor=summaries[-1].subject if more and summaries else None,
    ).model_dump(mode="json")


def subject_progress(subject: str, sessions: list[StoredSession], more: bool) -> dict:
    series: dict[str, list[SeriesPoint]] = {}
    for s in sessions:
        for name, value in {**s.metrics, **s.scores}.items():
            series.setdefault(name, []).append(SeriesPoint(session=s.id, at=s.at, value=value))
    return SubjectProgress(
        subject=subject,
        series=series,
        sessions=[
            SessionBody(id=s.id, at=s.at, source=s.source, params_version=s.params_version, transcript=s.transcript)
            for s in sessions
        ],
        next_cursor=sessions[-1].id if more and sessions else None,
    ).model_dump(mode="json")
