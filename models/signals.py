"""Everything measured about one video, gathered from the model outputs into one record (`Signals`), with the
evidence rules that decide which claims the measurements can support."""

from __future__ import annotations

from dataclasses import dataclass, replace

from softskills.models.body.metrics import BodyMetrics, analyze_body
from softskills.models.body.pose import PoseTrack
from softskills.models.errors import SpeakerNotFound
from softskills.models.face.landmarks import FaceTrack, concatenate_tracks
from softskills.models.face.metrics import FaceMetrics, analyze_face
from softskills.models.i18n.text import Text, say
from softskills.models.speech.lexicons import ENGLISH_COMFORTABLE_WPM
from softskills.models.speech.metrics import SpeechMetrics, analyze_speech
from softskills.models.speech.speakers import (
    ConversationMetrics,
    Diarization,
    coached_speaker,
    conversation_metrics,
    segment_speaker,
    speaker_view,
    word_speakers,
)
from softskills.models.speech.spoken_language import Languages
from softskills.models.speech.transcribe import Transcript, transcript_from_text
from softskills.models.speech.voice import VoiceAnalysis, join_voice, restrict_voice

MIN_SPEECH_S = 5.0  # below this much speaking time, speech-based scores are not supported by the evidence
MAX_HUMAN_PACE_WPM = 400.0
"""Faster than anyone speaks: auctioneers and speed-talking records reach 250-400 words per minute. A pace above it
means the words do not belong to the detected speech (e.g. a provided transcript for another recording)."""


def _faster_than_anyone(s: SpeechMetrics) -> bool:
    if s.pace_wpm is not None:
        return s.pace_wpm > MAX_HUMAN_PACE_WPM
    return s.pace_relative is not None and s.pace_relative > MAX_HUMAN_PACE_WPM / ENGLISH_COMFORTABLE_WPM


@dataclass(frozen=True)
class Speakers:
    """Who spoke when, and whose speech the other signals describe."""

    diarization: Diarization
    coached: int | None  # the speaker analysed; None = everyone together
    word_speakers: tuple[int | None, ...]  # of the full transcript's words
    conversation: ConversationMetrics

    @property
    def coached_turns(self) -> tuple[tuple[float, float], ...] | None:
        """The analysed speaker's turns (the part of the recording their speaker view keeps); None when everyone is
        analysed together."""
        if self.coached is None:
            return None
        return tuple((t.start_s, t.end_s) for t in self.diarization.turns if t.speaker == self.coached)


@dataclass(frozen=True)
class Signals:
    """Everything measured about one video; the single input of every composition function."""

    duration_s: float
    container: str
    has_audio: bool
    has_video: bool
    frames_analyzed: int
    transcript: Transcript | None
    voice: VoiceAnalysis | None
    speech: SpeechMetrics | None
    face_track: FaceTrack | None
    face: FaceMetrics | None
    languages: Languages  # the spoken language and the answer's
    pose_track: PoseTrack | None = None
    body: BodyMetrics | None = None  # None when no pose was run (off, or no video)
    speakers: Speakers | None = None  # more than one voice was found
    full_transcript: Transcript | None = None  # every speaker's words; `transcript` is the coached speaker's

    @property
    def timed_speech(self) -> SpeechMetrics | None:
        """The speech metrics when words were heard in the audio and timed there; None otherwise: no audio track,
        a wordless track, words in a track the voice analysis hears no speech in (Whisper's words on a muted
        microphone), a provided transcript that no detected speech could place in time, or words too many for the
        speech they were placed in (a pace over MAX_HUMAN_PACE_WPM, or the same share over the language's own
        comfortable pace where words are not its unit)."""
        s = self._heard_speech
        return s if s is not None and not _faster_than_anyone(s) else None

    @property
    def _heard_speech(self) -> SpeechMetrics | None:
        s, v = self.speech, self.voice
        heard = self.has_audio and (v is None or bool(v.speech_segments))
        return s if heard and s is not None and s.word_count and s.speaking_time_s else None

    @property
    def speech_gap(self) -> Text | None:
        """Why speech-based scores are withheld, or None when there is enough timed speech to support them."""
        provided = self.transcript is not None and self.transcript.source == "provided"
        heard = self._heard_speech
        if heard is None:
            if not self.has_audio:
                return (
                    say("The video has no audio track; the provided transcript is used for its content only.")
                    if provided
                    else say("The video has no audio track.")
                )
            return (
                say("No speech was detected in the audio; the provided transcript is used for its content only.")
                if provided
                else say("No speech was detected in the audio.")
            )
        if self.timed_speech is None:
            rate = (
                say("{wpm:.0f} words per minute", wpm=heard.pace_wpm)
                if heard.pace_wpm is not None
                else say("{times:.1f} times the language's comfortable pace", times=heard.pace_relative)
            )
            limit = (
                round(MAX_HUMAN_PACE_WPM)
                if heard.pace_wpm is not None
                else say("{times:.1f} times", times=MAX_HUMAN_PACE_WPM / ENGLISH_COMFORTABLE_WPM)
            )
            found = dict(count=heard.word_count, seconds=heard.speaking_time_s, rate=rate, limit=limit)
            if provided:
                return say(
                    "The words ({count}) in {seconds:.1f} s of detected speech would be {rate}, faster than "
                    "anyone speaks (over {limit}): the provided words do not match the audio, so pace, fillers "
                    "and pauses are not measured; the transcript is used for its content only.",
                    **found,
                )
            return say(
                "The words ({count}) in {seconds:.1f} s of detected speech would be {rate}, faster than anyone "
                "speaks (over {limit}): the words do not match the audio, so pace, fillers and pauses are not "
                "measured.",
                **found,
            )
        if self.timed_speech.speaking_time_s < MIN_SPEECH_S:
            return say(
                "Only {seconds:.1f} s of speech; at least {least:.0f} s is needed to score it.",
                seconds=self.timed_speech.speaking_time_s,
                least=MIN_SPEECH_S,
            )
        return None

    @property
    def face_gap(self) -> Text | None:
        """Why face-based scores are withheld, or None when a face was seen."""
        if self.face is not None and self.face.face_visible_ratio:
            return None
        return say("No face was found in the frames.") if self.has_video else say("The file has no video track.")


def measure_signals(
    media,
    *,
    voice: VoiceAnalysis | None,
    transcript: Transcript | None,
    provided_transcript: str | None,
    face_chunks: list[FaceTrack],
    client_track: FaceTrack | None,
    window_s: float,
    pose_chunks: tuple[PoseTrack, ...] | list[PoseTrack] = (),
    client_pose: PoseTrack | None = None,
    diarization: Diarization | None = None,
    languages: Languages,
    speaker: int | str | None = None,
) -> Signals:
    """`speaker`: who to analyse when the diarization found several (models.speech.speakers.coached_speaker:
    None = the one with the most speaking time, a number by first appearance, or EVERYONE). `languages`: the
    spoken language (a provided transcript is taken to be in it) and the answer's."""
    if provided_transcript is not None:  # timed over the detected speech; with none, the words carry no times
        transcript = transcript_from_text(
            provided_transcript, list(voice.speech_segments if voice else ()), languages.transcription_language
        )
    full_transcript, speakers, speech = transcript, None, None
    found = diarization.speaker_count if diarization is not None else 0
    if isinstance(speaker, int) and speaker > max(found, 1):
        raise SpeakerNotFound(
            f"Field 'speaker' asks for speaker {speaker}; the recording has {found} speaker{'' if found == 1 else 's'}."
        )
    if diarization is not None and diarization.speaker_count > 1 and transcript is not None:
        labels = word_speakers(transcript.words, diarization.speech)
        coached = coached_speaker(diarization, speaker)
        speakers = Speakers(
            diarization, coached, labels, conversation_metrics(diarization.speech, transcript.words, labels)
        )
        if coached is not None:
            view = speaker_view(None, transcript, diarization, coached, labels)
            speech = view.restore_speech_metrics(
                analyze_speech(
                    view.transcript,
                    join_voice(voice, view.kept_s) if voice is not None else None,
                    view.duration_s,
                    window_s=window_s,
                )
            )
            voice = restrict_voice(voice, view.kept_s) if voice is not None else None
            words = tuple(w for w, label in zip(transcript.words, labels) if label == coached)
            segments = tuple(
                (a, b, text)
                for a, b, text in transcript.segments
                if segment_speaker(a, b, transcript.words, labels) == coached
            )
            transcript = replace(
                transcript,
                text=" ".join(w.text for w in words),
                words=words,
                segments=segments,
                confidence=view.transcript.confidence,
            )
    if speech is None and transcript is not None:
        speech = analyze_speech(transcript, voice, media.duration_s, window_s=window_s)
    track = client_track if client_track is not None else (concatenate_tracks(face_chunks) if face_chunks else None)
    face = analyze_face(track) if track is not None and len(track.found) else None
    pose = client_pose if client_pose is not None else (concatenate_tracks(list(pose_chunks)) if pose_chunks else None)
    body = analyze_body(pose) if pose is not None and len(pose.found) else None
    return Signals(
        duration_s=media.duration_s,
        container=media.container,
        has_audio=media.has_audio,
        has_video=media.has_video,
        frames_analyzed=0 if track is None else len(track.found),
        transcript=transcript,
        voice=voice,
        speech=speech,
        face_track=track,
        face=face,
        pose_track=pose,
        body=body,
        speakers=speakers,
        full_transcript=full_transcript,
        languages=languages,
    )
