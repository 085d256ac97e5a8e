"""Speech deployment: the spoken language, faster-whisper transcription (the English model for English, the
multilingual one for every other language: both loaded once per replica), the acoustic voice analysis of the same
audio, and who spoke when (Resemblyzer's voice encoder over the voice activity)."""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from softskills.config.options import SpeechOptions


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=4)
class SpeechToTextDeployment:
    def __init__(self, options: dict | None = None):
        from softskills.models.speech.speakers import VoiceEncoder
        from softskills.models.speech.transcribe import SpeechToText

        opts = SpeechOptions(**(options or {}))
        self._stt = SpeechToText(**opts.model_dump())  # the options are SpeechToText's own parameters
        self._voices = VoiceEncoder(device=self._stt.device)

    async def identify_language(self, audio: np.ndarray, speech_segments: tuple):
        """Returns a models.speech.spoken_language.LanguageIdentification: the multilingual model's verdict over
        windows on the voiced speech."""
        return await asyncio.to_thread(self._stt.identify_language, audio, speech_segments)

    async def transcribe(self, audio: np.ndarray, language: str):
        """Returns a models.speech.transcribe.Transcript with word timestamps, decoded as `language`."""
        return await asyncio.to_thread(self._stt.transcribe, audio, language)

    async def analyze_voice(self, audio: np.ndarray, sample_rate: int):
        """Pitch, loudness and voice activity: CPU work kept off the ingress, beside the transcription."""
        from softskills.models.speech.voice import analyze_voice

        return await asyncio.to_thread(analyze_voice, audio, sample_rate)

    async def diarize(self, audio: np.ndarray, speech_segments: tuple, speakers_expected: int | None):
        """Returns a models.speech.speakers.Diarization: speakers numbered by first appearance."""
        from softskills.models.speech.speakers import diarize

        return await asyncio.to_thread(diarize, audio, speech_segments, self._voices, speakers_expected)
