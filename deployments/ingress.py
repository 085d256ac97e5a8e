"""HTTP ingress: authenticates, reads and splits the upload, fans out to the model deployments, composes the answer.

No model code lives here. Failures of the analysis code arrive as models.errors exceptions and are mapped to the
guide's status codes and `{"detail": ...}` bodies in one place (`_error_for`).
"""

# No `from __future__ import annotations` here: FastAPI must see the real `Request` type through Serve's
# class-based routes, or it takes `request` for a query parameter.
import asyncio
import functools
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve import metrics
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from dashboard.routes import router as dashboard_router
from deployments.config import IngressOptions
from deployments.http_limits import BodyTooLarge, declared_too_large, limited_receive
from storage.factory import STORAGE_OFF_REASON
from storage.routes import router as media_router
from auth.service import UNAUTHORIZED_DETAIL, UNAUTHORIZED_HEADERS
from models.errors import AnalysisError, InvalidLandmarkSamples, InvalidMedia, MediaLimitExceeded, UnsupportedMediaType

logger = logging.getLogger("ray.serve")

INVALID_BODY_DETAIL = "Missing or invalid request body."
SERVICE_ERROR_DETAIL = "Video analysis service error. Try a different format (e.g. MP4 or WebM) or shorter video."
OVERLOADED_DETAIL = "The service is busy. Retry after the number of seconds in the Retry-After header."
LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640]

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
    504: {"description": "The analysis ran past its time limit."},
}

api = FastAPI(
    title="SoftSkills API",
    version="1.0.0",
    description="Communication analysis of a video of a person speaking: transcript, pace, filler words, pauses, "
                "voice, eye contact, facial behaviour, scores with the evidence behind them, and feedback. "
                "Authenticate with `Authorization: Bearer ng_...` or `X-API-Key: ng_...`.",
)
# Before @serve.ingress below: Serve freezes the app's routes there. One port serves the API, the dashboard and
# the local video store's signed URLs.
api.include_router(dashboard_router)
api.include_router(media_router)


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


def _request_id() -> str:
    """Serve's id of the request being handled: the X-Request-ID header the client got back."""
    return serve.context._get_serve_request_context().request_id


def _log_unexpected(what: str, exc: Exception) -> None:
    """The traceback stays in the server log, under the request's id; the client gets the guide's 500 body."""
    logger.error("%s (request %s): %s", what, _request_id(), type(exc).__name__, exc_info=exc)


@api.exception_handler(Exception)
async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    _log_unexpected(f"unhandled error on {request.url.path}", exc)
    return _json_error(500, SERVICE_ERROR_DETAIL)


class Admission:
    """At most `active` analyses run at once on a replica and `waiting` more wait for a slot; anything beyond is
    answered 503 at once, before its body is read, so a burst costs almost nothing and every caller gets JSON
    (Serve's own queue-full answer is plain text)."""

    def __init__(self, active: int, waiting: int, retry_after_s: int):
        self._slots = asyncio.Semaphore(active)
        self._capacity = active + waiting
        self._admitted = 0
        self._retry_after = {"Retry-After": str(retry_after_s)}

    @asynccontextmanager
    async def slot(self):
        if self._admitted >= self._capacity:
            raise ApiError(503, OVERLOADED_DETAIL, self._retry_after)
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1

    def overloaded(self) -> ApiError:
        return ApiError(503, OVERLOADED_DETAIL, self._retry_after)


@functools.cache
def _metrics() -> dict:
    """Prometheus metrics, created in the replica on first use and exported by Ray's metrics agent (README,
    "Metrics"); Serve adds the deployment, replica and application tags."""
    return {
        "requests": metrics.Counter("softskills_requests", "Analysis requests by endpoint and status.",
                                    tag_keys=("endpoint", "status")),
        "errors": metrics.Counter("softskills_errors", "Analysis requests answered with a 4xx or 5xx, by status.",
                                  tag_keys=("endpoint", "status")),
        "latency": metrics.Histogram("softskills_request_seconds", "Time to answer an analysis request.",
                                     boundaries=LATENCY_BUCKETS_S, tag_keys=("endpoint", "status")),
        "stage": metrics.Histogram("softskills_stage_seconds", "Time per analysis stage: decode_audio, "
                                   "decode_frames, speech_to_text, voice, face, engine, compose.",
                                   boundaries=LATENCY_BUCKETS_S, tag_keys=("stage",)),
    }


def _observe_stage(stage: str, seconds: float) -> None:
    _metrics()["stage"].observe(seconds, tags={"stage": stage})


async def _stage(stage: str, awaitable):
    """Awaits one stage of the analysis and records how long it took."""
    started = time.perf_counter()
    try:
        return await awaitable
    finally:
        _observe_stage(stage, time.perf_counter() - started)


# Stage labels of the 504 messages -> the `stage` tag of softskills_stage_seconds.
_STAGE_TAGS = {"speech analysis": "voice", "speech-to-text": "speech_to_text", "face landmarks": "face",
               "engine": "engine"}


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
    started = time.perf_counter()
    try:
        return await asyncio.wait_for(_resolve(response), timeout=timeout_s)
    except asyncio.TimeoutError:
        response.cancel()
        raise StageTimeout(stage)
    finally:
        _observe_stage(_STAGE_TAGS.get(stage, stage), time.perf_counter() - started)


async def _resolve(response):
    return await response


class StageTimeout(Exception):
    def __init__(self, stage: str):
        super().__init__(f"{stage} timed out")
        self.stage = stage


async def _none():
    return None


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
        self._admission = Admission(self._opts.max_concurrent_analyses, self._opts.max_waiting_analyses,
                                    self._opts.retry_after_s)
        from dashboard.routes import attach
        from storage.factory import start_video_store

        self._videos = start_video_store(self._opts.storage)
        attach(self._opts.dashboard, self._videos,
               lambda request, owner: self._handle(request, full=True, session_owner=owner))

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

    async def _handle(self, request: Request, full: bool, session_owner: str | None = None) -> JSONResponse:
        """Every answer is JSON with a status from the README table, counted in the metrics and logged once.

        Log lines carry Serve's request id (the `request_id` field of the JSON logs, also the X-Request-ID
        response header); they never carry the key or the upload's name. An unexpected error is logged with its
        traceback, so it can be diagnosed from the id a client reports.
        """
        endpoint = "full-analysis" if full else "analyze-video"
        started = time.perf_counter()
        status = 500
        try:
            response = await asyncio.wait_for(self._answer(request, full, session_owner),
                                              timeout=self._opts.request_timeout_s)
            status = response.status_code
            return response
        except asyncio.TimeoutError:
            status = 504
            raise ApiError(504, f"The request took longer than the {self._opts.request_timeout_s:g} s limit. "
                                "Try a shorter video.")
        except ApiError as exc:
            status = exc.status_code
            raise
        except Exception as exc:
            _log_unexpected("analysis failed", exc)
            raise ApiError(500, SERVICE_ERROR_DETAIL)
        finally:
            elapsed_s = time.perf_counter() - started
            tags = {"endpoint": endpoint, "status": str(status)}
            _metrics()["requests"].inc(tags=tags)
            _metrics()["latency"].observe(elapsed_s, tags=tags)
            if status >= 400:
                _metrics()["errors"].inc(tags=tags)
            logger.info("%s answered %d in %.2f s", endpoint, status, elapsed_s)

    async def _answer(self, request: Request, full: bool, session_owner: str | None) -> JSONResponse:
        self._check_declared_size(request)  # before anything else: it costs nothing and reads nothing
        # The dashboard checked the signed-in session (and CSRF) instead of a key, and names the account's owner.
        owner = session_owner if session_owner is not None else await self._authenticate(request)
        async with self._admission.slot():
            form = await self._read_form(request)
            try:
                parsed = _parse_request(form, self._opts.observable_only)
                body = await self._analyze(parsed, full, str(request.base_url), owner)
            except AnalysisError as exc:
                raise _error_for(exc)
            except StageTimeout as exc:
                logger.warning("%s", exc)
                raise ApiError(504, f"Analysis timed out ({exc.stage}). Try a shorter video.")
            except BackPressureError:  # a model deployment's queue is full
                raise self._admission.overloaded()
            finally:
                await form.close()  # closes (and so deletes) the spooled upload
        return JSONResponse(body)

    async def _read_form(self, request: Request):
        """Parses the multipart body under the configured limits; bytes are counted as they stream in."""
        o = self._opts
        limited = Request(request.scope, receive=limited_receive(request.receive, o.max_upload_bytes))
        try:
            return await limited.form(max_files=o.max_form_files, max_fields=o.max_form_fields,
                                      max_part_size=o.max_field_bytes)
        except BodyTooLarge:
            raise self._too_large()
        except (StarletteHTTPException, MultiPartException) as exc:
            detail = str(getattr(exc, "detail", None) or getattr(exc, "message", ""))
            if "Too many" in detail or "maximum size" in detail:  # the parser's own limits: it names which
                raise ApiError(422, f"Invalid multipart body: {detail}")
            logger.info("unreadable multipart body")
            raise ApiError(422, INVALID_BODY_DETAIL)
        except Exception as exc:  # malformed in a way the parser did not name: the body is unusable
            logger.info("unreadable multipart body (%s)", type(exc).__name__)
            raise ApiError(422, INVALID_BODY_DETAIL)

    def _too_large(self) -> ApiError:
        return ApiError(413, f"Upload larger than the {self._opts.max_upload_bytes / (1024 * 1024):g} MB limit.")

    async def _authenticate(self, request: Request) -> str:
        """The owner of the request's API key (stored videos count against its quota); 401 without a valid key."""
        try:
            key = await asyncio.to_thread(self._authenticator.authenticate, request.headers)
        except Exception as exc:  # the key store is down: not the caller's fault, so not a 401
            logger.error("key store unavailable: %s", type(exc).__name__)
            raise ApiError(503, "Authentication is temporarily unavailable; retry shortly.", {"Retry-After": "5"})
        if key is None:
            raise ApiError(401, UNAUTHORIZED_DETAIL, UNAUTHORIZED_HEADERS)
        return key.owner

    def _check_declared_size(self, request: Request) -> None:
        if declared_too_large(request.headers, self._opts.max_upload_bytes):
            raise self._too_large()

    async def _analyze(self, req: AnalysisRequest, full: bool, base_url: str, owner: str) -> dict:
        o = self._opts
        signals = await self._measure(req)
        from models.report import compose_engine_kpis, compose_video_analysis, transcript_payload

        if not full:
            return await _stage("compose", asyncio.to_thread(
                compose_video_analysis, signals, window_s=o.time_series_window_s, observable_only=req.observable_only))
        kpis = compose_engine_kpis(signals)
        engine_call = self._engine.analyze.remote(kpis, transcript_payload(signals.transcript), req.context_phrase)
        video_analysis, engine_analysis, (video_url, video_url_reason) = await asyncio.gather(
            _stage("compose", asyncio.to_thread(compose_video_analysis, signals, window_s=o.time_series_window_s,
                                                observable_only=req.observable_only)),
            self._engine_analysis(engine_call), self._store_video(req, base_url, owner))
        return {
            "sessionId": req.session_id,
            "video_analysis": video_analysis,
            "engine_analysis": engine_analysis,
            "engine_kpis": kpis,
            "transcript": signals.transcript.text if signals.transcript is not None else None,
            "transcript_details": transcript_payload(signals.transcript),
            "videoUrl": video_url,
            "videoUrlReason": video_url_reason,
        }

    async def _measure(self, req: AnalysisRequest):
        """Decodes while the models work: speech-to-text and voice analysis start after the audio-only pass (a
        fraction of the video decode), each chunk of frames goes to a landmark replica as soon as it is decoded,
        and long audio is cut at silences across speech replicas. On any failure the calls in flight are
        cancelled."""
        from models.media import VideoFrames, decode_audio, media_info
        from models.report import measure_signals

        o = self._opts
        decode_started = time.monotonic()
        audio = await _stage("decode_audio", asyncio.to_thread(
            decode_audio, req.video.file, max_duration_s=o.max_duration_s, max_decode_s=o.max_decode_s))
        in_flight: list = []
        try:
            voice_call, transcript_parts = None, []
            if audio.has_audio:
                voice_call = self._speech.analyze_voice.remote(audio.audio, audio.sample_rate)
                in_flight.append(voice_call)
                if req.transcript is None:
                    transcript_parts = self._transcribe_parts(audio.audio, audio.sample_rate)
                    in_flight.extend(call for _, call in transcript_parts)
            video = VideoFrames(req.video.file, frame_rate_hz=o.frame_rate_hz, max_side_px=o.max_side_px,
                                chunk_s=o.face_chunk_s, max_duration_s=o.max_duration_s, max_pixels=o.max_pixels,
                                max_decode_s=max(1e-3, o.max_decode_s - (time.monotonic() - decode_started)))
            face_calls = await _stage("decode_frames",
                                      self._stream_frames(video, in_flight, send=req.mediapipe_samples is None))
            info = media_info(audio, video)
            client_track = None
            if req.mediapipe_samples is not None:
                from models.face import face_track_from_samples

                client_track = face_track_from_samples(req.mediapipe_samples, info.source_width, info.source_height)
            voice, transcript, face_chunks = await asyncio.gather(
                _await_with_timeout(voice_call, o.speech_timeout_s, "speech analysis") if voice_call else _none(),
                self._merged_transcript(transcript_parts),
                asyncio.gather(*(_await_with_timeout(c, o.face_timeout_s, "face landmarks") for c in face_calls)))
        except BaseException:
            for call in in_flight:
                call.cancel()
            raise
        return await asyncio.to_thread(
            measure_signals, info, voice=voice, transcript=transcript, provided_transcript=req.transcript,
            face_chunks=list(face_chunks), client_track=client_track, window_s=o.time_series_window_s)

    def _transcribe_parts(self, audio: np.ndarray, sample_rate: int) -> list:
        """(offset_s, call) per part of the audio cut at silences; one part unless the audio is long."""
        from models.segments import split_at_silences

        ranges = split_at_silences(audio, sample_rate, self._opts.speech_segment_s) or [(0, len(audio))]
        return [(a / sample_rate, self._speech.transcribe.remote(audio[a:b])) for a, b in ranges]

    async def _merged_transcript(self, parts: list):
        if not parts:
            return None
        from models.segments import merge_transcripts

        transcripts = await asyncio.gather(
            *(_await_with_timeout(call, self._opts.speech_timeout_s, "speech-to-text") for _, call in parts))
        return transcripts[0] if len(parts) == 1 else merge_transcripts(
            [(offset, t) for (offset, _), t in zip(parts, transcripts)])

    async def _stream_frames(self, video, in_flight: list, send: bool) -> list:
        """Decodes one chunk at a time in a worker thread; each chunk is on its way to a landmark replica before
        the next is decoded, so decoding and landmarks overlap. With client samples the frames are only checked."""
        chunks = iter(video)
        calls = []
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                if send:
                    calls.append(self._face.landmarks.remote(chunk.frames, chunk.frame_times_s))
                    in_flight.append(calls[-1])
        finally:
            if not chunks.gi_running:  # a cancelled request leaves its thread to finish the chunk; GC closes it
                chunks.close()
        return calls

    async def _store_video(self, req: AnalysisRequest, base_url: str, owner: str) -> tuple[str | None, str | None]:
        """(videoUrl, null), or (null, why not): storage off, a quota, low disk, a storage failure. A video that is
        not kept costs its URL, not the analysis (VideoStorage.save never raises)."""
        if self._videos is None:
            return None, STORAGE_OFF_REASON
        saved = await asyncio.to_thread(self._videos.save, req.video.file, base_url, owner)
        return saved.url, saved.reason

    async def _engine_analysis(self, engine_call) -> dict | None:
        """The engine is optional to the answer: on failure or timeout, `engine_analysis` is null."""
        try:
            return await _await_with_timeout(engine_call, self._opts.engine_timeout_s, "engine")
        except Exception as exc:
            logger.warning("engine unavailable: %s", type(exc).__name__)
            return None

