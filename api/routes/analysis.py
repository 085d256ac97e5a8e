"""The synchronous analysis endpoints (`analyze-video`, `full-analysis`) and /health. A request's path: its
declared size, its key, a slot to upload in, the form received in full and read (api/request_fields.py), an analysis
slot, the pipeline (models/pipeline.py over the replica's stages; with a `subject`, judged against its stored
sessions and then kept with them: subjects/service.py), the answer built from the records
(api/responses.py). Every error goes on to the app's one handler (api/errors.py)."""

# No `from __future__ import annotations`: FastAPI reads the routes' parameter types at run time.
import asyncio
import functools
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from softskills.api.errors import RequestTimeout, ServiceError, answer_for, log_unexpected, status_for
from softskills.api.intake import Intake
from softskills.api.limits import Admission, check_declared_size
from softskills.api.openapi import ERROR_RESPONSES
from softskills.api.request_fields import parse_analysis_request
from softskills.api.responses import FullAnalysis, VideoAnalysis, build_answer
from softskills.jobs.store import Result
from softskills.models.pipeline import Pipeline
from softskills.storage.factory import STORAGE_OFF_REASON, SavedVideo, VideoStorage
from softskills.subjects.service import SubjectSessions

logger = logging.getLogger("ray.serve")


class SynchronousAnalyses:
    """One replica's synchronous analyses: `answer` runs one from the request to its answer, for the two endpoints
    and for the dashboard's uploads (whose session stands in for the key)."""

    def __init__(
        self, pipeline: Pipeline, intake: Intake, videos: VideoStorage | None, subjects: SubjectSessions
    ) -> None:
        """`videos`: where full-analysis keeps the upload (None: storage is off); `subjects`: where a request's
        subject's sessions are read and kept."""
        self._pipeline, self._intake, self._videos, self._subjects = pipeline, intake, videos, subjects
        limits = intake.limits
        self._admission = Admission(limits.max_concurrent_analyses, limits.max_waiting_analyses, limits.retry_after_s)

    async def answer(self, request: Request, full: bool, session_owner: str | None = None) -> Result:
        """Every answer is counted in the metrics and logged once, with Serve's request id (also the X-Request-ID
        response header); never with the key or the upload's name. `session_owner`: the dashboard checked the
        signed-in session (and CSRF) instead of a key."""
        endpoint = "full-analysis" if full else "analyze-video"
        started = time.perf_counter()
        status = 500
        try:
            result = await asyncio.wait_for(
                self._analyze(request, full, session_owner), timeout=self._intake.limits.request_timeout_s
            )
            status = 200
            return result
        except asyncio.TimeoutError:
            status = 504
            raise RequestTimeout(self._intake.limits.request_timeout_s) from None
        except Exception as exc:
            if answer_for(exc) is not None:
                status = status_for(exc)
                raise
            log_unexpected("analysis failed", exc)
            raise ServiceError() from None
        finally:
            elapsed_s = time.perf_counter() - started
            self._intake.observe_request(endpoint, status, elapsed_s)
            logger.info("%s answered %d in %.2f s", endpoint, status, elapsed_s)

    async def _analyze(self, request: Request, full: bool, session_owner: str | None) -> Result:
        """The upload is received in full (spooled, under its own slots and bounds) and its fields checked before
        it takes an analysis slot: a slow upload never holds one. A service already full says so before reading."""
        intake = self._intake
        check_declared_size(request, intake.limits.max_upload_bytes)  # before anything else: it costs nothing
        owner = session_owner if session_owner is not None else await intake.keys.owner(request)
        self._admission.refuse_if_full()
        async with intake.uploads.form(request, owner) as form:  # the spooled upload is deleted when it ends
            video, session_id, analysis_input = parse_analysis_request(
                form, intake.limits, observable_only=intake.observable_only
            )
            subject = analysis_input.subject
            earlier = await self._subjects.earlier(owner, subject)  # a subject too many: 429 before the analysis
            keep_video = functools.partial(self._keep_video, video, str(request.base_url), owner) if full else None
            async with self._admission.slot():
                analysis = await self._pipeline.analyze(video.file, analysis_input, keep_video, earlier)
        await self._subjects.keep(owner, subject, analysis, "api" if session_owner is None else "dashboard")
        return await asyncio.to_thread(build_answer, analysis, full, session_id)

    async def _keep_video(self, video: UploadFile, base_url: str, owner: str) -> SavedVideo:
        """Keeps the upload behind a temporary URL within the owner's quota; not keeping it costs the URL (null,
        with the reason), never the analysis."""
        if self._videos is None:
            return SavedVideo(None, STORAGE_OFF_REASON)
        return await asyncio.to_thread(self._videos.save, video.file, base_url, owner)


def _analyses(request: Request) -> SynchronousAnalyses:
    return request.app.state.analyses


Analyses = Annotated[SynchronousAnalyses, Depends(_analyses)]
router = APIRouter()


@router.get("/health", summary="Liveness: the ingress answers.")
async def health() -> dict:
    return {"status": "ok"}


@router.post(
    "/api/v1/analyze-video",
    responses=ERROR_RESPONSES,
    response_model=VideoAnalysis,
    summary="Standard communication analysis of one video (stateless).",
)
async def analyze_video(request: Request, analyses: Analyses) -> JSONResponse:
    return JSONResponse((await analyses.answer(request, full=False)).body)


@router.post(
    "/api/v1/full-analysis",
    responses=ERROR_RESPONSES,
    response_model=FullAnalysis,
    summary="Video analysis plus the engine's interpretation, KPIs and transcript.",
)
async def full_analysis(request: Request, analyses: Analyses) -> JSONResponse:
    return JSONResponse((await analyses.answer(request, full=True)).body)
