"""The analysis of one upload, in the order its stages run. Ray-free: the model stages are injected async callables
(deployment handles in the service, in-process models in tests and benchmarks).

    decode audio ─┬─► voice analysis ─┬─► speakers (who spoke when)  ┐
                  │                   └─► language (asked for, or identified on the voiced speech)
                  └─► speech-to-text in that language, one call per part cut at silences
    decode frames ─┬─► face landmarks, one call per chunk as it is decoded (at most `max_face_chunks_in_flight`)
                   └─► pose landmarks on every chunk's frames at `pose_frame_rate_hz`
                                                                ┘ → signals → measurements → interpret (engine)

Decoding overlaps the models: voice analysis starts after the audio-only pass (a fraction of the video decode),
speech-to-text as soon as the language is known (at once when the client named it; else after the voice analysis
and one identification call), and each chunk of frames is on its way to a landmark replica before the next one is
decoded. Chunks wait for a free slot beyond `max_face_chunks_in_flight`, so a long, compressible video cannot put
gigabytes of frames in flight. Every stage has a timeout; on any failure every call still in flight is cancelled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from softskills.models.body.pose import PoseTrack, has_pose_samples, pose_track_from_samples
from softskills.models.errors import InvalidLandmarkSamples, StageTimeout
from softskills.models.face.landmarks import FaceTrack, face_track_from_samples, parse_samples
from softskills.models.i18n.text import Text, say
from softskills.models.interpretation.model import Interpretation
from softskills.models.measurements import Measurements, measure
from softskills.models.media.decode import VideoFrames, decode_audio, media_info
from softskills.models.progress import SessionRecord
from softskills.models.signals import Signals, measure_signals
from softskills.models.speech.segments import merge_transcripts, split_at_silences
from softskills.models.speech.speakers import Diarization
from softskills.models.speech.spoken_language import (
    LanguageIdentification,
    Languages,
    detected_languages,
    requested_languages,
)
from softskills.models.speech.transcribe import Transcript
from softskills.models.speech.voice import VoiceAnalysis

SAMPLES_WITHOUT_VIDEO = (
    "mediapipeSamples were sent with a file that has no video track: the landmarks are "
    "positions in the video's frames. Upload the video they were taken from, or omit "
    "mediapipeSamples."
)


@dataclass(frozen=True)
class Stages:
    """The model calls. Each must cancel its remote work when the awaiting task is cancelled."""

    transcribe: Callable[[np.ndarray, str], Awaitable[Transcript]]  # (audio, language)
    identify_language: Callable[[np.ndarray, tuple], Awaitable[LanguageIdentification]]  # (audio, speech segments)
    analyze_voice: Callable[[np.ndarray, int], Awaitable[VoiceAnalysis]]
    landmarks: Callable[[np.ndarray, np.ndarray], Awaitable[FaceTrack]]
    interpret: Callable[[Measurements, Sequence[SessionRecord] | None], Awaitable[Interpretation]]
    pose: Callable[[np.ndarray, np.ndarray], Awaitable[PoseTrack]] | None = None
    diarize: Callable[[np.ndarray, tuple, int | None], Awaitable[Diarization]] | None = None


@dataclass(frozen=True)
class PipelineOptions:
    """The analysis options the pipeline reads (documented in config/options.py, AnalysisOptions)."""

    frame_rate_hz: float
    max_side_px: int
    max_duration_s: float
    max_pixels: int
    max_decode_s: float
    face_chunk_s: float
    max_face_chunks_in_flight: int
    pose_frame_rate_hz: float
    speech_segment_s: float
    speech_timeout_s: float
    face_timeout_s: float
    engine_timeout_s: float
    time_series_window_s: float
    video_decoder: str = "cpu"


@dataclass(frozen=True)
class AnalysisInput:
    """What the client asked for, validated by the ingress."""

    transcript: str | None = None
    context_phrase: str | None = None
    mediapipe_samples: str | None = None
    observable_only: bool = False
    speakers_expected: int | None = None  # forces the number of speakers found
    speaker: int | str | None = None  # who to analyse: None = the most speaking time, a number, or "everyone"
    language: str | None = None  # the spoken language (ISO 639-1, a supported one); None = identify it
    subject: str | None = None  # the owner's id of the person: the session is judged against and kept under it
    # The language of the answer's sentences (one with a catalog: models/i18n); None = the spoken language's when
    # it has one, else English.
    feedback_language: str | None = None


@dataclass(frozen=True)
class Analysis:
    """What was measured and how it reads; the ingress adds what is not analysis (session id, video URL)."""

    signals: Signals
    measurements: Measurements
    interpretation: Interpretation | None
    interpretation_failure: Text | None = None  # why interpretation is None
    kept_video: object = None  # what the caller's keep_video returned


def _ignore(stage: str, seconds: float) -> None:
    pass


@dataclass
class Pipeline:
    stages: Stages
    options: PipelineOptions
    observe: Callable[[str, float], None] = _ignore  # (stage, seconds) for each stage, e.g. a metrics histogram

    async def analyze(
        self,
        upload: BinaryIO,
        request: AnalysisInput,
        keep_video: Callable[[], Awaitable] | None = None,
        earlier: Sequence[SessionRecord] | None = None,
    ) -> Analysis:
        """Runs every stage on the upload (a seekable binary file). `keep_video`, when given, runs once the media
        is known to be valid, beside the interpretation; its result is the analysis's `kept_video`. `earlier`: the
        stored sessions of the request's subject, which the interpretation judges progress against (None: no
        subject)."""
        signals = await self._measure(upload, request)
        measurements = await self._timed(
            "measure",
            asyncio.to_thread(
                measure,
                signals,
                window_s=self.options.time_series_window_s,
                observable_only=request.observable_only,
                context_phrase=request.context_phrase,
            ),
        )
        kept = keep_video() if keep_video is not None else _nothing()
        (interpretation, failure), kept_video = await asyncio.gather(self._interpret(measurements, earlier), kept)
        return Analysis(signals, measurements, interpretation, failure, kept_video)

    async def _measure(self, upload: BinaryIO, request: AnalysisInput) -> Signals:
        o = self.options
        decode_started = time.monotonic()
        audio = await self._timed(
            "decode_audio",
            asyncio.to_thread(decode_audio, upload, max_duration_s=o.max_duration_s, max_decode_s=o.max_decode_s),
        )
        if request.mediapipe_samples is not None and not audio.has_video:
            raise InvalidLandmarkSamples(SAMPLES_WITHOUT_VIDEO)
        calls: list[asyncio.Task] = []
        try:
            voice = transcript = diarization = languages = None
            if audio.has_audio:
                voice = self._call(
                    "voice", self.stages.analyze_voice(audio.audio, audio.sample_rate), o.speech_timeout_s, calls
                )
                if self.stages.diarize is not None:
                    diarization = self._call(
                        "speakers", self._diarize(audio.audio, voice, request), o.speech_timeout_s, calls
                    )
                languages = self._call(
                    "language", self._languages(audio.audio, voice, request), o.speech_timeout_s, calls
                )
                if request.transcript is None:
                    transcript = self._call(
                        "speech_to_text",
                        self._transcribe(audio.audio, audio.sample_rate, languages),
                        o.speech_timeout_s,
                        calls,
                    )
            samples = None
            if request.mediapipe_samples is not None:
                samples = await asyncio.to_thread(parse_samples, request.mediapipe_samples)
            client_pose = samples is not None and has_pose_samples(samples)
            video = VideoFrames(
                upload,
                frame_rate_hz=o.frame_rate_hz,
                max_side_px=o.max_side_px,
                chunk_s=o.face_chunk_s,
                max_duration_s=o.max_duration_s,
                max_pixels=o.max_pixels,
                max_decode_s=max(1e-3, o.max_decode_s - (time.monotonic() - decode_started)),
                video_decoder=o.video_decoder,
            )
            face_calls, pose_calls = await self._timed(
                "decode_frames",
                self._stream_frames(
                    video,
                    calls,
                    face=samples is None,
                    pose=self.stages.pose is not None and o.pose_frame_rate_hz > 0 and not client_pose,
                ),
            )
            info = media_info(audio, video)
            client_face = client_body = None
            if samples is not None:
                client_face, client_body = await asyncio.to_thread(
                    _client_tracks, samples, info.source_width, info.source_height
                )
            voice, transcript, diarization, languages, faces, poses = await asyncio.gather(
                _result(voice),
                _result(transcript),
                _result(diarization),
                _result(languages),
                asyncio.gather(*face_calls),
                asyncio.gather(*pose_calls),
            )
        except BaseException:
            for call in calls:
                call.cancel()
            raise
        return await asyncio.to_thread(
            measure_signals,
            info,
            voice=voice,
            transcript=transcript,
            provided_transcript=request.transcript,
            face_chunks=list(faces),
            client_track=client_face,
            pose_chunks=list(poses),
            client_pose=client_body,
            window_s=o.time_series_window_s,
            diarization=diarization,
            speaker=request.speaker,
            languages=languages or _without_audio(request),
        )

    async def _diarize(self, audio: np.ndarray, voice: asyncio.Task, request: AnalysisInput) -> Diarization:
        """Speakers from the voice activity, as soon as the voice analysis has found it (beside speech-to-text). The
        wait is shielded: this stage timing out must not cancel the voice analysis, whose own error (or timeout) is
        the one to report; an unshielded wait turned a voice timeout into a bare cancellation (a plain-text 500)."""
        return await self.stages.diarize(
            audio, (await asyncio.shield(voice)).speech_segments, request.speakers_expected
        )

    async def _languages(self, audio: np.ndarray, voice: asyncio.Task, request: AnalysisInput) -> Languages:
        """The language the client named, or the one identified (once per request) on the voice analysis's speech
        segments. The wait on the voice analysis is shielded, as in _diarize."""
        if request.language is not None:
            return requested_languages(request.language, request.feedback_language)
        found = await self.stages.identify_language(audio, (await asyncio.shield(voice)).speech_segments)
        return detected_languages(found, request.feedback_language)

    async def _transcribe(self, audio: np.ndarray, sample_rate: int, languages: asyncio.Task) -> Transcript:
        """Audio longer than speech_segment_s is cut at silences; the parts are transcribed at once (across
        replicas) in the request's language and merged with absolute times."""
        language = (await asyncio.shield(languages)).transcription_language
        ranges = split_at_silences(audio, sample_rate, self.options.speech_segment_s) or [(0, len(audio))]
        parts = [asyncio.ensure_future(self.stages.transcribe(audio[a:b], language)) for a, b in ranges]
        try:
            transcripts = await asyncio.gather(*parts)
        except BaseException:
            for part in parts:
                part.cancel()
            raise
        if len(transcripts) == 1:
            return transcripts[0]
        return merge_transcripts([(a / sample_rate, t) for (a, _), t in zip(ranges, transcripts)])

    async def _stream_frames(
        self, video: VideoFrames, calls: list[asyncio.Task], face: bool, pose: bool
    ) -> tuple[list[asyncio.Task], list[asyncio.Task]]:
        """Decodes one chunk at a time in a worker thread and sends it to the landmark stages at once: every frame
        to the face, the frames at pose_frame_rate_hz to the pose. Decoding waits while max_face_chunks_in_flight
        calls still hold frames. With client samples the frames are only checked (or only posed)."""
        o = self.options
        chunks = iter(video)
        face_calls: list[asyncio.Task] = []
        pose_calls: list[asyncio.Task] = []
        pose_slot = -1  # the last 1/pose_frame_rate_hz slot a pose frame was taken from
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                in_flight = [c for c in face_calls + pose_calls if not c.done()]
                while len(in_flight) >= o.max_face_chunks_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    in_flight = [c for c in face_calls + pose_calls if not c.done()]
                for done in face_calls + pose_calls:
                    if done.done() and done.exception() is not None:
                        raise done.exception()
                if face:
                    face_calls.append(
                        self._call(
                            "face", self.stages.landmarks(chunk.frames, chunk.frame_times_s), o.face_timeout_s, calls
                        )
                    )
                if pose:
                    slots = np.floor(chunk.frame_times_s * o.pose_frame_rate_hz + 1e-6).astype(int)
                    keep = np.flatnonzero(slots != np.concatenate([[pose_slot], slots[:-1]]))
                    if len(keep):
                        pose_slot = int(slots[-1])
                        pose_calls.append(
                            self._call(
                                "pose",
                                self.stages.pose(np.ascontiguousarray(chunk.frames[keep]), chunk.frame_times_s[keep]),
                                o.face_timeout_s,
                                calls,
                            )
                        )
        finally:
            if not chunks.gi_running:  # a cancelled request leaves its thread to finish the chunk; GC closes it
                chunks.close()
        return face_calls, pose_calls

    async def _interpret(
        self, measurements: Measurements, earlier: Sequence[SessionRecord] | None
    ) -> tuple[Interpretation | None, Text | None]:
        """Without the engine the measurements still answer: the interpretation is null, with the reason."""
        try:
            return await self._call(
                "engine", self.stages.interpret(measurements, earlier), self.options.engine_timeout_s, []
            ), None
        except StageTimeout:
            return None, say(
                "The interpretation engine did not answer within {seconds:g} s.", seconds=self.options.engine_timeout_s
            )
        except Exception as exc:
            return None, say("The interpretation engine failed ({error}).", error=type(exc).__name__)

    def _call(self, stage: str, awaitable: Awaitable, timeout_s: float, calls: list[asyncio.Task]) -> asyncio.Task:
        """Starts a stage now, bounded by its timeout; the task is added to `calls` so a failure can cancel it."""

        async def bounded():
            try:
                return await asyncio.wait_for(awaitable, timeout=timeout_s)
            except asyncio.TimeoutError:
                raise StageTimeout(stage) from None

        task = asyncio.ensure_future(self._timed(stage, bounded()))
        calls.append(task)
        return task

    async def _timed(self, stage: str, awaitable: Awaitable):
        started = time.perf_counter()
        try:
            return await awaitable
        finally:
            self.observe(stage, time.perf_counter() - started)


def _without_audio(request: AnalysisInput) -> Languages:
    if request.language is not None:
        return requested_languages(request.language, request.feedback_language)
    return detected_languages(None, request.feedback_language)


def _client_tracks(samples: list, image_width: int, image_height: int) -> tuple[FaceTrack, PoseTrack | None]:
    return (
        face_track_from_samples(samples, image_width, image_height),
        pose_track_from_samples(samples, image_width, image_height),
    )


async def _result(task: asyncio.Task | None):
    return None if task is None else await task


async def _nothing() -> None:
    return None


def local_stages(
    speech_to_text, landmarker, encoder=None, params: dict | None = None, pose_landmarker=None, voice_encoder=None
) -> Stages:
    """The stages as in-process models, each run in a worker thread: for tests, benchmarks and tools that analyse
    without a Ray cluster. `speech_to_text` is a models.speech.transcribe.SpeechToText, `landmarker` a
    models.face.landmarks.FaceLandmarker, `encoder` a models.interpretation.engine.SentenceEncoder (None: no
    content signals), `pose_landmarker` a models.body.pose.PoseLandmarker (None: no body metrics), `voice_encoder`
    a models.speech.speakers.VoiceEncoder (None: every voice is one speaker)."""
    from softskills.models.interpretation.model import interpret
    from softskills.models.speech.speakers import diarize
    from softskills.models.speech.voice import analyze_voice

    def threaded(function):
        async def call(*args):
            return await asyncio.to_thread(function, *args)

        return call

    embed = encoder.embed if encoder is not None else None
    return Stages(
        transcribe=threaded(speech_to_text.transcribe),
        identify_language=threaded(speech_to_text.identify_language),
        analyze_voice=threaded(analyze_voice),
        landmarks=threaded(landmarker.landmarks),
        interpret=threaded(lambda measurements, earlier: interpret(measurements, embed, params, earlier)),
        pose=threaded(pose_landmarker.landmarks) if pose_landmarker is not None else None,
        diarize=threaded(lambda audio, segments, expected: diarize(audio, segments, voice_encoder, expected))
        if voice_encoder is not None
        else None,
    )
