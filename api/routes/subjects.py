"""The subject API: the key owner's subjects, each subject's series of sessions, erasure, and the owner's setting of
whether transcripts are kept. The key is checked before anything else; another owner's subject is a 404 exactly like
a missing one (so is an id that is not a subject id). The store is subjects/store.py; the bodies are
api/subject_responses.py's; every error is answered by api/errors.py's table."""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from softskills.api.errors import InvalidRequest
from softskills.api.intake import Answer, Intake, respond
from softskills.api.limits import read_form
from softskills.api.openapi import SUBJECT_ERROR_RESPONSES, SUBJECT_LIST_PARAMETERS, SUBJECT_SETTINGS_BODY
from softskills.api.request_fields import boolean_field
from softskills.api.routes.jobs import page_request
from softskills.api.subject_responses import (
    SETTINGS_PATH,
    SUBJECTS_PATH,
    SubjectDeleted,
    SubjectList,
    SubjectProgress,
    SubjectSettings,
    subject_list,
    subject_progress,
)
from softskills.subjects.errors import SubjectNotFound
from softskills.subjects.service import SubjectSessions
from softskills.subjects.store import SUBJECT_PATTERN, is_session_id

SETTINGS_MAX_BYTES = 1024  # one short field


def _is_subject(text: str) -> bool:
    return SUBJECT_PATTERN.fullmatch(text) is not None


class SubjectRoutes:
    """One per ingress replica."""

    def __init__(self, sessions: SubjectSessions, intake: Intake) -> None:
        self._store, self._intake = sessions.store, intake

    async def respond(self, endpoint: str, work) -> JSONResponse:
        return await respond(self._intake, endpoint, work)

    async def list(self, request: Request) -> Answer:
        owner = await self._intake.keys.owner(request)
        limit, cursor = page_request(request, _is_subject)
        subjects, more = await asyncio.to_thread(self._store.subjects, owner, limit, cursor)
        return 200, subject_list(subjects, more), {}

    async def progress(self, request: Request, subject: str) -> Answer:
        owner = await self._intake.keys.owner(request)
        if not _is_subject(subject):
            raise SubjectNotFound()
        limit, cursor = page_request(request, is_session_id)
        sessions, more = await asyncio.to_thread(self._store.sessions, owner, subject, limit, cursor)
        return 200, subject_progress(subject, sessions, more), {}

    async def delete(self, request: Request, subject: str) -> Answer:
        owner = await self._intake.keys.owner(request)
        if not _is_subject(subject):
            raise SubjectNotFound()
        erased = await asyncio.to_thread(self._store.delete, owner, subject)
        return 200, SubjectDeleted(subject=subject, deleted_sessions=erased).model_dump(mode="json"), {}

    async def settings(self, request: Request) -> Answer:
        owner = await self._intake.keys.owner(request)
        keep = await asyncio.to_thread(self._store.keeps_transcripts, owner)
        return 200, SubjectSettings(keep_transcripts=keep).model_dump(mode="json"), {}

    async def update_settings(self, request: Request) -> Answer:
        owner = await self._intake.keys.owner(request)
        form = await read_form(
            request,
            max_body_bytes=SETTINGS_MAX_BYTES,
            max_files=0,
            max_fields=1,
            max_part_bytes=SETTINGS_MAX_BYTES,
            what="Form",
            min_rate=self._intake.uploads.min_rate,
        )
        keep = boolean_field(form, "keep_transcripts")
        if keep is None:
            raise InvalidRequest("Field 'keep_transcripts' (true or false) is required.")
        await asyncio.to_thread(self._store.set_keep_transcripts, owner, keep)
        return 200, SubjectSettings(keep_transcripts=keep).model_dump(mode="json"), {}


def _subject_routes(request: Request) -> SubjectRoutes:
    return request.app.state.subjects


Subjects = Annotated[SubjectRoutes, Depends(_subject_routes)]
router = APIRouter()
# No bound of its own on the route: one would answer 422 before the key is checked. A malformed subject is a 404 like
# a missing one, after the key.
SUBJECT = Path(description="The subject id the sessions were sent with.")


@router.get(
    SUBJECTS_PATH,
    openapi_extra=SUBJECT_LIST_PARAMETERS,
    responses=SUBJECT_ERROR_RESPONSES,
    response_model=SubjectList,
    summary="The key owner's subjects, in name order, a page at a time.",
)
async def list_subjects(request: Request, subjects: Subjects) -> JSONResponse:
    return await subjects.respond("list-subjects", subjects.list(request))


@router.get(
    SUBJECTS_PATH + "/{subject}/progress",
    openapi_extra=SUBJECT_LIST_PARAMETERS,
    responses=SUBJECT_ERROR_RESPONSES,
    response_model=SubjectProgress,
    summary="A subject's stored sessions and every metric's series with times, newest first, a page at a time.",
)
async def subject_progress_series(request: Request, subjects: Subjects, subject: str = SUBJECT) -> JSONResponse:
    return await subjects.respond("subject-progress", subjects.progress(request, subject))


@router.delete(
    SUBJECTS_PATH + "/{subject}",
    responses=SUBJECT_ERROR_RESPONSES,
    response_model=SubjectDeleted,
    summary="Erase every stored session of a subject, at once.",
)
async def delete_subject(request: Request, subjects: Subjects, subject: str = SUBJECT) -> JSONResponse:
    return await subjects.respond("delete-subject", subjects.delete(request, subject))


@router.get(
    SETTINGS_PATH,
    responses=SUBJECT_ERROR_RESPONSES,
    response_model=SubjectSettings,
    summary="The key owner's subject settings.",
)
async def subject_settings(request: Request, subjects: Subjects) -> JSONResponse:
    return await subjects.respond("subject-settings", subjects.settings(request))


@router.put(
    SETTINGS_PATH,
    openapi_extra=SUBJECT_SETTINGS_BODY,
    responses=SUBJECT_ERROR_RESPONSES,
    response_model=SubjectSettings,
    summary="Change the key owner's subject settings (a form field `keep_transcripts`: true or false).",
)
async def update_subject_settings(request: Request, subjects: Subjects) -> JSONResponse:
    return await subjects.respond("update-subject-settings", subjects.update_settings(request))
