"""HTTP ingress: authenticates, reads and splits the upload, fans out to the model deployments, composes the answer.

No model code lives here. Failures of the analysis code arrive as models.errors exceptions and are mapped to the
guide's status codes and `{"detail": ...}` bodies in one place (`_error_for`).
"""

# No `from __future__ import annotations` here: FastAPI must see the real `Request` type through Serve's
# class-based routes, or it takes `request` for a query parameter.
import asyncio
import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from deployments.config import IngressOptions
from auth.service import UNAUTHORIZED_DETAIL, UNAUTHORIZED_HEADERS
from models.errors import AnalysisError, InvalidLandmarkSamples, InvalidMedia, MediaLimitExceeded, UnsupportedMediaType

logger = logging.getLogger("ray.serve")

INVALID_BODY_DETAIL = "Missing or invalid request body."
SERVICE_ERROR_DETAIL = "Video analysis service error. Try a different format (e.g. MP4 or WebM) or shorter video."
MAX_TEXT_FIELD_BYTES = 8 * 1024 * 1024  # a transcript or landmark-sample JSON; the video is a file part

_MULTIPART_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["video"],
                    "properties": {
                        "video": {"type": "string", "format": "binary",
                                  "description": "The recorded video (mp4, mov, webm, mkv or avi). The field "
                                                 "must be named `video`, not `file`."},
                        "sessionId": {"type": "string", "description": "Echoed in the response (full-analysis)."},
                        "transcript": {"type": "string",
                                       "description": "Used instead of speech-to-text; word times are then "
                                                      "estimated from the voice activity."},
                        "context_phrase": {"type": "string",
                                           "description": "Scenario, e.g. `job interview practice`."},
                        "mediapipeSamples": {"type": "string",
                                             "description": "JSON array of MediaPipe face-landmark samples "
                                                            "(see README); used instead of server-side landmarks."},
                        "observable_only": {"type": "boolean",
                                            "description": "Only observable behaviour metrics; no likeability "
                                                           "or authenticity inference."},
                    },
                }
            }
        },
    }
}
_ERROR_RESPONSES = {
    401: {"description": "Invalid, expired, revoked or missing API key."},
    413: {"description": "Upload larger than the configured limit."},
    415: {"description": "Not a supported video container."},
    422: {"description": "Missing or invalid request body, or a video over a limit."},
    500: {"description": "Analysis or server failure."},
    503: {"description": "Overloaded: retry after the Retry-After seconds."},
}

api = FastAPI(
    title="SoftSkills API",
    version="1.0.0",
    description="Communication analysis of a video of a person speaking: transcript, pace, filler words, pauses, "
                "voice, eye contact, facial behaviour, scores with the evidence behind them, and feedback. "
                "Authenticate with `Authorization: Bearer ng_...` or `X-API-Key: ng_...`.",
)


class ApiError(Exception):
    def __init__(self, status_code: int, detail: str, headers: dict[str, str] | None = None):
        self.status_code, self.detail, self.headers = status_code, detail, headers


def _json_error(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


@api.exception_handler(ApiError)
async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return _json_error(exc.status_code, exc.detail, exc.headers)


@api.exception_handler(RequestValidationError)
async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    logger.info("request validation failed at %s", [error.get("loc") for error in exc.errors()])
    return _json_error(422, INVALID_BODY_DETAIL)


@api.exception_handler(StarletteHTTPException)
async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _json_error(exc.status_code, str(exc.detail))


@api.exception_handler(Exception)
async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s: %s", request.url.path, type(exc).__name__)
    return _json_error(500, SERVICE_ERROR_DETAIL)


def _error_for(exc: AnalysisError) -> ApiError:
    """The single mapping from analysis errors to HTTP answers."""
    if isinstance(exc, UnsupportedMediaType):
        return ApiError(415, str(exc))
    if isinstance(exc, (MediaLimitExceeded, InvalidMedia, InvalidLandmarkSamples)):
        return ApiError(422, str(exc))
    return ApiError(500, SERVICE_ERROR_DETAIL)


@dataclass(frozen=True)
class AnalysisRequest:
    """The multipart fields, validated. `video` stays the parser's spooled file: no extra copy of the upload."""

    video: UploadFile
    session_id: str | None
    transcript: str | None
    context_phrase: str | None
    mediapipe_samples: str | None
    observable_only: bool


def _text_field(form, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"Field '{name}' must be text, not a file.")
    value = value.strip()
    return value or None


def _parse_request(form, default_observable_only: bool) -> AnalysisRequest:
    video = form.get("video")
    if not isinstance(video, UploadFile):
        raise ApiError(422, INVALID_BODY_DETAIL)
    observable = _text_field(form, "observable_only")
    if observable is not None and observable.lower() not in {"true", "false", "1", "0", "yes", "no"}:
        raise ApiError(422, "Field 'observable_only' must be true or false.")
    return AnalysisRequest(
        video=video,
        session_id=_text_field(form, "sessionId"),
        transcript=_text_field(form, "transcript"),
        context_phrase=_text_field(form, "context_phrase"),
        mediapipe_samples=_text_field(form, "mediapipeSamples"),
        observable_only=default_observable_only if observable is None
        else observable.lower() in {"true", "1", "yes"},
    )


async def _await_with_timeout(response, timeout_s: float, stage: str):
    """Awaits a deployment call; a timeout cancels it so a stuck replica does not keep the work."""
    try:
        return await asyncio.wait_for(_resolve(response), timeout=timeout_s)
    except asyncio.TimeoutError:
        response.cancel()
        raise StageTimeout(stage)


async def _resolve(response):
    return await response


class StageTimeout(Exception):
    def __init__(self, stage: str):
        super().__init__(f"{stage} timed out")
        self.stage = stage


def _frame_chunks(media, chunk_s: float):
    """Consecutive frame ranges of about `chunk_s` seconds, so a long video fans out across face replicas."""
    if len(media.frames) == 0:
        return []
    bounds = np.searchsorted(media.frame_times_s, np.arange(chunk_s, media.frame_times_s[-1] + chunk_s, chunk_s))
    starts = np.concatenate(([0], bounds))
    return [(media.frames[a:b], media.frame_times_s[a:b])
            for a, b in zip(starts[:-1], starts[1:]) if b > a]


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=8, max_queued_requests=32)
@serve.ingress(api)
class Ingress:
    def __init__(self, speech: DeploymentHandle, face: DeploymentHandle, engine: DeploymentHandle,
                 options: dict | None = None):
        from auth.service import Authenticator
        from auth.store import KeyStore, database_url

        self._speech, self._face, self._engine = speech, face, engine
        self._opts = IngressOptions(**(options or {}))
        self._authenticator = Authenticator(KeyStore(database_url()), cache_ttl_s=self._opts.auth_cache_ttl_s)

    @api.get("/health", summary="Liveness: the ingress answers.")
    async def health(self) -> dict:
        return {"status": "ok"}

    @api.post("/api/v1/analyze-video", openapi_extra=_MULTIPART_SCHEMA, responses=_ERROR_RESPONSES,
              summary="Standard communication analysis of one video (stateless).")
    async def analyze_video(self, request: Request) -> JSONResponse:
        return await self._handle(request, full=False)

    @api.post("/api/v1/full-analysis", openapi_extra=_MULTIPART_SCHEMA, responses=_ERROR_RESPONSES,
              summary="Video analysis plus the engine's interpretation, KPIs and transcript.")
    async def full_analysis(self, request: Request) -> JSONResponse:
        return await self._handle(request, full=True)

    async def _handle(self, request: Request, full: bool) -> JSONResponse:
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        await self._authenticate(request)
        self._check_declared_size(request)
        try:
            form = await request.form(max_files=4, max_fields=16, max_part_size=MAX_TEXT_FIELD_BYTES)
        except Exception as exc:  # malformed multipart or a part over the limit: the body is unusable either way
            logger.info("request %s: unreadable multipart body (%s)", request_id, type(exc).__name__)
            raise ApiError(422, INVALID_BODY_DETAIL)
        try:
            parsed = _parse_request(form, self._opts.observable_only)
            body = await self._analyze(parsed, full)
        except AnalysisError as exc:
            raise _error_for(exc)
        except StageTimeout as exc:
            logger.warning("request %s: %s", request_id, exc)
            raise ApiError(504, f"Analysis timed out ({exc.stage}). Try a shorter video.")
        finally:
            await form.close()  # closes (and so deletes) the spooled upload
        logger.info("request %s %s done in %.2f s", request_id, request.url.path, time.perf_counter() - started)
        return JSONResponse(body, headers={"X-Request-Id": request_id})

    async def _authenticate(self, request: Request) -> None:
        try:
            key = await asyncio.to_thread(self._authenticator.authenticate, request.headers)
        except Exception as exc:  # the key store is down: not the caller's fault, so not a 401
            logger.error("key store unavailable: %s", type(exc).__name__)
            raise ApiError(503, "Authentication is temporarily unavailable; retry shortly.", {"Retry-After": "5"})
        if key is None:
            raise ApiError(401, UNAUTHORIZED_DETAIL, UNAUTHORIZED_HEADERS)

    def _check_declared_size(self, request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._opts.max_upload_bytes:
            limit_mb = self._opts.max_upload_bytes // (1024 * 1024)
            raise ApiError(413, f"Upload larger than the {limit_mb} MB limit.")

    async def _analyze(self, req: AnalysisRequest, full: bool) -> dict:
        from models.media import decode_media

        o = self._opts
        req.video.file.seek(0)
        media = await asyncio.to_thread(
            decode_media, req.video.file, frame_rate_hz=o.frame_rate_hz, max_side_px=o.max_side_px,
            max_duration_s=o.max_duration_s, max_pixels=o.max_pixels, max_decode_s=o.max_decode_s)
        client_track = None
        if req.mediapipe_samples is not None:
            from models.face import face_track_from_samples

            client_track = face_track_from_samples(req.mediapipe_samples, media.source_width, media.source_height)

        signals = await self._measure(media, req, client_track)
        from models.report import compose_engine_kpis, compose_video_analysis, transcript_payload

        if not full:
            return await asyncio.to_thread(compose_video_analysis, signals, window_s=o.time_series_window_s,
                                           observable_only=req.observable_only)
        kpis = compose_engine_kpis(signals)
        engine_call = self._engine.analyze.remote(kpis, transcript_payload(signals.transcript), req.context_phrase)
        video_analysis, engine_analysis = await asyncio.gather(
            asyncio.to_thread(compose_video_analysis, signals, window_s=o.time_series_window_s,
                              observable_only=req.observable_only),
            self._engine_analysis(engine_call))
        return {
            "sessionId": req.session_id,
            "video_analysis": video_analysis,
            "engine_analysis": engine_analysis,
            "engine_kpis": kpis,
            "transcript": signals.transcript.text if signals.transcript is not None else None,
            "transcript_details": transcript_payload(signals.transcript),
            "videoUrl": None,
        }

    async def _measure(self, media, req: AnalysisRequest, client_track):
        """Runs speech-to-text, voice analysis and face landmarks at once, then derives the metrics."""
        from models.report import measure_signals

        o = self._opts
        audio_calls = []
        if media.has_audio:
            audio_calls.append(self._speech.analyze_voice.remote(media.audio, media.sample_rate))
            if req.transcript is None:
                audio_calls.append(self._speech.transcribe.remote(media.audio))
        face_calls = [] if client_track is not None else [
            self._face.landmarks.remote(frames, times) for frames, times in _frame_chunks(media, o.face_chunk_s)]
        results = await asyncio.gather(
            *(_await_with_timeout(call, o.speech_timeout_s, "speech analysis") for call in audio_calls),
            *(_await_with_timeout(call, o.face_timeout_s, "face landmarks") for call in face_calls))
        voice = results[0] if media.has_audio else None
        transcript = results[1] if media.has_audio and req.transcript is None else None
        face_chunks = results[len(audio_calls):]
        return await asyncio.to_thread(
            measure_signals, media, voice=voice, transcript=transcript, provided_transcript=req.transcript,
            face_chunks=face_chunks, client_track=client_track, window_s=o.time_series_window_s)

    async def _engine_analysis(self, engine_call) -> dict | None:
        """The engine is optional to the answer: on failure or timeout, `engine_analysis` is null."""
        try:
            return await _await_with_timeout(engine_call, self._opts.engine_timeout_s, "engine")
        except Exception as exc:
            logger.warning("engine unavailable: %s", type(exc).__name__)
            return None

