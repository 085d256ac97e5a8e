"""Turns the raw model outputs of one video into metrics, KPIs and the response bodies.

`measure_signals` gathers everything measured about one video; `compose_video_analysis` and
`compose_engine_kpis` shape it into the guide's JSON. Both are pure functions of the signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.interpretation import feedback, timeline
from models.face.landmarks import FaceTrack, concatenate_tracks
from models.face.metrics import FaceMetrics, analyze_face
from models.interpretation.scoring import load_rubric, overall_score, score_categories
from models.speech.transcribe import Transcript, transcript_from_text
from models.speech.metrics import SpeechMetrics, analyze_speech
from models.speech.voice import VoiceAnalysis

ANALYSIS_VERSION = "1.0.0"
MIN_SPEECH_S = 5.0  # below this much speaking time, speech-based scores are not supported by the evidence
# The rubric's metrics that describe the speaker's voice and words: scored only with enough timed speech.
SPEECH_METRICS = frozenset({"pace_wpm", "filler_rate_per_min", "long_pause_rate_per_min", "stt_confidence",
                            "pitch_sd_semitones", "loudness_range_db", "monotone_ratio"})


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

    @property
    def timed_speech(self) -> SpeechMetrics | None:
        """The speech metrics when words were heard in the audio and timed there; None otherwise: no audio track,
        a wordless track, words in a track the voice analysis hears no speech in (Whisper's words on a muted
        microphone), or a provided transcript that no detected speech could place in time."""
        s, v = self.speech, self.voice
        heard = self.has_audio and (v is None or bool(v.speech_segments))
        return s if heard and s is not None and s.word_count and s.speaking_time_s else None

    @property
    def speech_gap(self) -> str | None:
        """Why speech-based scores are withheld, or None when there is enough timed speech to support them."""
        if self.timed_speech is None:
            heard = "The video has no audio track" if not self.has_audio else "No speech was detected in the audio"
            provided = self.transcript is not None and self.transcript.source == "provided"
            return heard + ("; the provided transcript is used for its content only." if provided else ".")
        if self.timed_speech.speaking_time_s < MIN_SPEECH_S:
            return (f"Only {self.timed_speech.speaking_time_s:.1f} s of speech; at least {MIN_SPEECH_S:.0f} s is "
                    "needed to score it.")
        return None

    @property
    def face_gap(self) -> str | None:
        """Why face-based scores are withheld, or None when a face was seen."""
        if self.face is not None and self.face.face_visible_ratio:
            return None
        return "No face was found in the frames." if self.has_video else "The file has no video track."


def measure_signals(media, *, voice: VoiceAnalysis | None, transcript: Transcript | None,
                    provided_transcript: str | None, face_chunks: list[FaceTrack], client_track: FaceTrack | None,
                    window_s: float) -> Signals:
    if provided_transcript is not None:  # timed over the detected speech; with none, the words carry no times
        transcript = transcript_from_text(provided_transcript, list(voice.speech_segments if voice else ()))
    speech = analyze_speech(transcript, voice, media.duration_s, window_s=window_s) if transcript is not None else None
    track = client_track if client_track is not None else (concatenate_tracks(face_chunks) if face_chunks else None)
    face = analyze_face(track) if track is not None and len(track.found) else None
    return Signals(duration_s=media.duration_s, container=media.container, has_audio=media.has_audio,
                   has_video=media.has_video, frames_analyzed=0 if track is None else len(track.found),
                   transcript=transcript, voice=voice, speech=speech, face_track=track, face=face)


def scoring_metrics(signals: Signals) -> dict[str, float | None]:
    """The rubric's inputs; speech metrics are withheld when there is too little speech to support them."""
    m: dict[str, float | None] = {}
    s, v, f = signals.timed_speech, signals.voice, signals.face
    if signals.speech_gap is None:
        minutes = s.speaking_time_s / 60.0
        m.update(pace_wpm=s.pace_wpm, filler_rate_per_min=s.filler_rate_per_min,
                 long_pause_rate_per_min=sum(p.is_long for p in s.pauses) / minutes)
        if signals.transcript.timing == "measured":
            m["stt_confidence"] = signals.transcript.confidence
        if v is not None:
            m.update(pitch_sd_semitones=v.pitch_sd_semitones, loudness_range_db=v.loudness_range_db,
                     monotone_ratio=monotone_ratio(v, s.speaking_time_s))
    if signals.face_gap is None:
        m.update(face_visible_ratio=f.face_visible_ratio, eye_contact_ratio=f.eye_contact_ratio,
                 smile_ratio=f.smile_ratio, head_motion_deg_per_s=f.head_motion_deg_per_s,
                 blink_rate_per_min=f.blink_rate_per_min)
    return m


def monotone_ratio(voice: VoiceAnalysis, speaking_time_s: float) -> float | None:
    if voice.pitch_sd_semitones is None or not speaking_time_s:
        return None
    return min(1.0, sum(b - a for a, b, _ in voice.monotone_stretches) / speaking_time_s)


def evidence_quality(signals: Signals) -> dict:
    """How much the numbers can be trusted, and what could not be measured and why."""
    s, v, f, t = signals.timed_speech, signals.voice, signals.face, signals.transcript
    gaps = {"speech": signals.speech_gap, "face": signals.face_gap}
    return {
        "duration_s": round(signals.duration_s, 2),
        "frames_analyzed": signals.frames_analyzed,
        "landmark_source": None if signals.face_track is None else signals.face_track.source,
        "face_visible_ratio": _r(f.face_visible_ratio if f else None),
        "speech_ratio": _r(s.speaking_time_s / signals.duration_s if s is not None and signals.duration_s else None),
        "snr_db": _r(v.snr_db if v else None, 1),
        "speech_to_text_confidence": _r(t.confidence if t else None),
        "transcript_source": None if t is None else t.source,
        "word_timing": None if t is None else t.timing,
        "missing": {part: reason for part, reason in gaps.items() if reason is not None},
    }


def compose_video_analysis(signals: Signals, *, window_s: float = 5.0, observable_only: bool = False) -> dict:
    """The `analyze-video` body: the guide's fields, each computed from the signals, plus the evidence."""
    categories = score_categories(scoring_metrics(signals), observable_only=observable_only)
    overall = overall_score(categories)
    rows = timeline.time_series(signals, window_s, observable_only)
    moments = timeline.labeled_moments(signals, rows)
    strengths, areas = feedback.strengths_and_areas(categories, signals, moments)
    s = signals.timed_speech
    return {
        "overall_score": overall,
        "category_scores": {name: c.score for name, c in categories.items()},
        "strengths": strengths,
        "areas_for_improvement": areas,
        "filler_word_count": len(s.fillers) if s is not None else None,
        "speaking_pace_wpm": _r(s.pace_wpm, 1) if s is not None else None,
        "detailed_feedback": feedback.detailed_feedback(categories, signals, moments),
        "session_summary": feedback.session_summary(signals, categories, overall),
        "recommendation": feedback.recommendation(categories, signals, moments),
        "time_series_scores": rows,
        "labeled_moments": [m.to_dict() for m in moments],
        "key_moments": timeline.key_moments(moments, rows),
        "score_details": {"rubric_version": load_rubric()["version"], "observable_only": observable_only,
                          "overall_reason": None if overall is not None else "No category had enough evidence.",
                          "categories": {name: c.to_dict() for name, c in categories.items()}},
        "metrics": {
            "speech": signals.speech.to_dict() if signals.speech is not None else None,
            "voice": signals.voice.to_dict() if signals.voice is not None else None,
            "face": signals.face.to_dict() if signals.face is not None else None,
        },
        "evidence_quality": evidence_quality(signals),
        "analysis_version": ANALYSIS_VERSION,
    }


def compose_engine_kpis(signals: Signals) -> dict:
    """The flat KPI dict the engine interprets (and the response's `engine_kpis`)."""
    s, v, f = signals.timed_speech, signals.voice, signals.face
    kpis: dict = {"duration_s": _r(signals.duration_s, 2)}
    if v is not None:
        kpis["snr_db"] = _r(v.snr_db, 1)
    if s is not None:
        kpis.update(word_count=s.word_count, speaking_time_s=_r(s.speaking_time_s, 2), pace_wpm=_r(s.pace_wpm, 1),
                    articulation_rate_wpm=_r(s.articulation_rate_wpm, 1), filler_count=len(s.fillers),
                    filler_rate_per_min=_r(s.filler_rate_per_min, 2), pause_count=len(s.pauses),
                    long_pause_count=sum(p.is_long for p in s.pauses),
                    speech_ratio=_r(s.speaking_time_s / signals.duration_s if signals.duration_s else None),
                    long_pause_intervals=[[_r(p.start_s, 2), _r(p.end_s, 2)] for p in s.pauses if p.is_long])
    if v is not None and s is not None:  # a voice is the speaker's only where words were heard
        kpis.update(pitch_median_hz=_r(v.pitch_median_hz, 1), pitch_sd_semitones=_r(v.pitch_sd_semitones, 2),
                    loudness_range_db=_r(v.loudness_range_db, 1),
                    monotone_ratio=_r(monotone_ratio(v, s.speaking_time_s)),
                    monotone_stretches=[[_r(a, 2), _r(b, 2)] for a, b, _ in v.monotone_stretches])
    if f is not None and signals.face_gap is None:
        kpis.update(face_visible_ratio=_r(f.face_visible_ratio), eye_contact_ratio=_r(f.eye_contact_ratio),
                    look_away_count=len(f.look_away_intervals or ()), blink_rate_per_min=_r(f.blink_rate_per_min, 1),
                    head_motion_deg_per_s=_r(f.head_motion_deg_per_s, 2), smile_ratio=_r(f.smile_ratio),
                    look_away_intervals=[[_r(a, 2), _r(b, 2)] for a, b in f.look_away_intervals or ()],
                    smile_intervals=[[_r(a, 2), _r(b, 2)] for a, b in f.smile_intervals or ()])
    if s is not None and signals.transcript.timing == "measured":
        kpis["stt_confidence"] = _r(signals.transcript.confidence)
    return kpis


def transcript_payload(transcript: Transcript | None) -> dict | None:
    """The transcript as plain data: what the engine reads and what full-analysis returns."""
    if transcript is None:
        return None
    return {
        "text": transcript.text,
        "source": transcript.source,
        "timing": transcript.timing,
        "language": transcript.language,
        "confidence": _r(transcript.confidence),
        "segments": [[_r(a, 2), _r(b, 2), text] for a, b, text in transcript.segments],
        "words": [{"word": w.text, "start_s": _r(w.start_s, 2), "end_s": _r(w.end_s, 2),
                   "probability": _r(w.probability)} for w in transcript.words],
    }


def _r(value, digits: int = 3):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None
