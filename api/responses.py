"""The response bodies as pydantic models (so /openapi.json documents every field), built once here from the
analysis records of models/, and the answer of an analysis endpoint (`build_answer`): its JSON body and the scores a
report's history keeps, both from the same records. Rounding happens only here: scores on the 0-10 scale to one
decimal, every other number to three, and a number that is not finite is null. Every sentence is said here in the
answer's feedback language (models/i18n): the records carry them as catalog messages.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StrictInt

from softskills.jobs.store import Result, Summary
from softskills.models.i18n.catalogs import translator
from softskills.models.interpretation.model import CATEGORIES, Interpretation, Level
from softskills.models.interpretation.sentences import Sentence
from softskills.models.measurements import Event, Measurements
from softskills.models.pipeline import Analysis
from softskills.models.progress import Personal
from softskills.storage.factory import SavedVideo

ANALYSIS_VERSION = "2.0.0"
ENGINE_VERSION = "2.0.0"


def rounded(value: float | None, digits: int) -> float | None:
    """The one rounding rule of every answer."""
    return round(float(value), digits) if value is not None and math.isfinite(value) else None


def _rounder(digits: int):
    return PlainSerializer(lambda v: rounded(v, digits), return_type=Union[float, None])


SCORE_DIGITS = 1
Number = Annotated[float, _rounder(3)]
Score = Annotated[float, _rounder(SCORE_DIGITS)]  # 0..10
Evidence = dict[str, Union[StrictInt, Number, str, None]]
Say = Callable[[Any], Any]  # a text (or None) -> the same in the answer's language


def _sayer(analysis: Analysis) -> Say:
    """Says texts in the analysis's feedback language (`language.feedback`)."""
    return translator(analysis.signals.languages.feedback).render


class Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class CategoryScores(Body):
    likeability: Score | None
    authenticity: Score | None
    clarity: Score | None
    confidence: Score | None


class Moment(Body):
    type: str = Field(
        description="filler, long_pause, pace_spike, monotone, look_away, smile, hedge, question, "
        "repeated_phrase, off_centre, cut_by_edge, shoulders_tilted, slouching, gesturing, "
        "fidgeting"
    )
    start_s: Number
    end_s: Number
    label: str
    evidence: Evidence


class KeyMoment(Moment):
    tone: str = Field(description="keep or improve")
    why: str


class TimeSeriesRow(Body):
    start_s: Number
    end_s: Number
    pace_wpm: Number | None
    filler_count: int | None
    eye_contact_ratio: Number | None
    vocal_energy_db: Number | None
    pitch_sd_semitones: Number | None
    speech_reason: str | None = Field(
        description="Why pace and fillers are null in this window: no scored "
        "speech, too little of it, or another speaker's turn (the "
        "analysed speaker is listening)."
    )
    scores: CategoryScores
    overall_score: int | None


class Component(Body):
    metric: str
    value: Number
    score: Score
    weight: Number


class CategoryDetail(Body):
    score: Score | None
    reason: str | None
    coverage: Number
    components: list[Component]


class ScoreDetails(Body):
    params_version: str | None = Field(description="Version of the interpretation parameter file.")
    rubric_version: str | None = Field(description="The same version, under its first name.")
    observable_only: bool
    overall_reason: str | None
    interpretation_reason: str | None = Field(description="Why no score or feedback was computed, when none was.")
    categories: dict[str, CategoryDetail]
    withheld: dict[str, str] = Field(description="Metrics that were not scored, and why.")


class Filler(Body):
    word: str
    start_s: Number
    end_s: Number
    method: str


class Pause(Body):
    start_s: Number
    end_s: Number
    duration_s: Number
    is_long: bool


class PaceWindow(Body):
    start_s: Number
    end_s: Number
    words: int
    wpm: Number | None = Field(description="Null where words are not the unit of pace (Japanese, Chinese).")
    syllables: int | None = Field(description="Syllables (morae in Japanese) in the window.")
    syllables_per_s: Number | None


class SpeechMetrics(Body):
    word_count: int
    speaking_time_s: Number | None
    pace_wpm: Number | None
    articulation_rate_wpm: Number | None
    rolling_pace: list[PaceWindow]
    fillers: list[Filler]
    filler_count: int | None
    filler_rate_per_min: Number | None
    top_fillers: list[tuple[str, int]]
    pauses: list[Pause]
    long_pause_count: int
    mean_pause_s: Number | None
    pace_unit: str = Field(description="What syllables_per_s counts: syllable, or mora (Japanese).")
    syllable_count: int | None
    syllables_per_s: Number | None = Field(description="The spoken language's pace unit per second of speaking time.")
    pace_relative: Number | None = Field(
        description="Pace over the centre of the spoken language's comfortable range "
        "(1 = centre; English: pace_wpm / 150)."
    )
    reasons: dict[str, str] = Field(description="Why a null field above was not measured.")


class Interval(Body):
    start_s: Number
    end_s: Number
    duration_s: Number


class MonotoneStretch(Body):
    start_s: Number
    end_s: Number
    pitch_sd_semitones: Number


class VoiceMetrics(Body):
    pitch_median_hz: Number | None
    pitch_sd_semitones: Number | None
    loudness_range_db: Number | None
    snr_db: Number | None
    speech_segments: list[tuple[Number, Number]]
    monotone_stretches: list[MonotoneStretch]


class FaceMetrics(Body):
    frames_analyzed: int
    face_frames: int
    face_visible_ratio: Number | None
    frame_rate_hz: Number | None
    gaze_source: str | None
    eye_contact_ratio: Number | None
    look_away_intervals: list[Interval] | None
    blink_count: int | None
    blink_rate_per_min: Number | None = Field(description="A lower bound below 15 frames per second.")
    head_motion_deg_per_s: Number | None = Field(description="Mean head speed above tracking noise.")
    head_yaw_median_deg: Number | None
    head_pitch_median_deg: Number | None
    smile_ratio: Number | None
    smile_intervals: list[Interval] | None


class TimedPhrase(Body):
    text: str
    start_s: Number
    end_s: Number


class RepeatedPhrase(Body):
    text: str
    count: int
    times_s: list[Number]


class LanguageMetrics(Body):
    word_count: int
    hedges: list[TimedPhrase]
    hedge_rate_per_100_words: Number | None
    repeated_phrases: list[RepeatedPhrase]
    vocabulary_diversity_mattr: Number | None
    questions: list[TimedPhrase]


class FromRecord(Body):
    """Read field by field from the models/ record of the same shape."""

    model_config = ConfigDict(from_attributes=True)


Intervals = list[tuple[Number, Number]]


class FramingMetrics(FromRecord):
    face_frames: int
    face_width_ratio_median: Number | None
    face_centre_x_median: Number | None = Field(description="0 = left edge, 1 = right edge")
    face_centre_y_median: Number | None = Field(description="0 = top, 1 = bottom")
    off_centre_ratio: Number | None
    cut_by_edge_ratio: Number | None
    off_centre_intervals: Intervals | None
    cut_by_edge_intervals: Intervals | None
    reason: str | None


class PostureMetrics(FromRecord):
    slouch_frames: int
    tilt_frames: int
    shoulder_tilt_median_deg: Number | None
    tilted_ratio: Number | None
    tilted_intervals: Intervals | None
    upright_head_height_shoulder_widths: Number | None
    head_height_median_shoulder_widths: Number | None
    slouch_ratio: Number | None
    slouch_intervals: Intervals | None
    tilt_reason: str | None
    slouch_reason: str | None


class GestureMetrics(FromRecord):
    hands_visible_ratio: Number | None
    hands_visible_s: Number
    gesture_count: int | None
    gesture_rate_per_min: Number | None
    wrist_speed_median_shoulder_widths_per_s: Number | None
    gesture_intervals: Intervals | None
    reason: str | None


class FidgetMetrics(FromRecord):
    measured_s: Number
    band_hz: tuple[Number, Number] | None
    fidget_ratio: Number | None
    band_rms_median_shoulder_widths: Number | None
    fidget_intervals: Intervals | None
    reason: str | None


class BodyMetrics(FromRecord):
    frames_analyzed: int
    body_frames: int
    frame_rate_hz: Number | None
    framing: FramingMetrics
    posture: PostureMetrics
    gestures: GestureMetrics
    fidgeting: FidgetMetrics


class Metrics(Body):
    speech: SpeechMetrics | None
    voice: VoiceMetrics | None
    face: FaceMetrics | None
    language: LanguageMetrics | None
    body: BodyMetrics | None = Field(
        description="Framing, posture, gestures and fidgeting from MediaPipe Pose; null when pose was not analysed."
    )


class SpeakerShare(FromRecord):
    speaker: int
    speaking_time_s: Number
    talk_share: Number
    turn_count: int
    longest_turn_s: Number
    interruption_count: int
    question_count: int | None


class SpeakerSpan(FromRecord):
    speaker: int
    start_s: Number
    end_s: Number


class Interruption(FromRecord):
    speaker: int = Field(description="Who came in.")
    interrupted_speaker: int
    start_s: Number
    gap_s: Number = Field(description="Start minus the interrupted turn's end (0: no silence between).")


class Speakers(Body):
    """More than one voice: who spoke when, and whose speech the rest of the analysis describes."""

    speaker_count: int
    analysed_speaker: int | None = Field(
        description="The speaker whose pace, fillers, pauses, voice and words are "
        "measured (1 = first to speak); null = everyone together."
    )
    method: str
    speakers_expected: int | None
    closest_speakers_similarity: Number | None = Field(description="Cosine of the two closest voices found.")
    talk_time: list[SpeakerShare]
    turns: list[SpeakerSpan]
    longest_monologue: SpeakerSpan | None
    interruptions: list[Interruption]


class EvidenceQuality(Body):
    duration_s: Number
    frames_analyzed: int
    landmark_source: str | None
    face_visible_ratio: Number | None
    speech_ratio: Number | None
    snr_db: Number | None
    speech_to_text_confidence: Number | None
    transcript_source: str | None
    word_timing: str | None
    missing: dict[str, str] = Field(description="What could not be measured, and why.")


class LanguageBody(Body):
    spoken: str | None = Field(
        description="ISO 639-1 code of the language spoken; null when it could not be "
        "identified (the reason says why; the speech is then transcribed as "
        "English)."
    )
    probability: Number | None = Field(
        description="Whisper's probability of `spoken`, combined over the voiced "
        "windows listened to; null when the client named the language."
    )
    source: str = Field(description="detected (identified from the speech) or requested (the `language` field).")
    feedback: str = Field(description="The language of the answer's sentences (feedback, reasons, labels).")
    supported: bool | None = Field(
        description="Whether `spoken` is one of the supported languages "
        "(docs/languages.md); another language is transcribed but its language "
        "metrics are not measured."
    )
    reason: str | None = Field(description="Why `spoken` is null, or why it is not supported.")


class ProgressMetric(Body):
    name: str = Field(description="A metric (as in score_details.withheld), a category, or `overall`.")
    label: str
    better: Literal["lower", "higher", "band"] = Field(
        description="band: closer to the metric curve's top-scoring "
        "range (pace 135-165 wpm in English; pitch "
        "variation 6 semitones)."
    )
    value: Number | None = Field(description="This session's; null when it was not measured.")
    baseline: Number | None = Field(description="The median of the subject's latest earlier sessions.")
    change: Number | None = Field(description="value - baseline.")
    improvement: Number | None = Field(
        description="How much closer to the better side than the baseline, in the "
        "metric's unit (negative: further from it)."
    )
    usual_variation: Number | None = Field(description="The subject's take-to-take SD, at least the metric's floor.")
    threshold: Number | None = Field(description="An improvement beyond plus or minus this is a verdict.")
    verdict: Literal["improved", "worse", "usual"] | None = Field(
        description="improved or worse: beyond the subject's usual take-to-take variation; usual: within it; null, "
        "with the reason, when it cannot be judged."
    )
    sessions: int = Field(description="Earlier sessions the baseline is the median of.")
    reason: str | None


class PersonalCalibration(Body):
    metric: str
    value: Number
    population_score: Score = Field(description="The metric curve's score (0-10).")
    personal_median: Number = Field(description="The subject's median over their latest sessions.")
    usual_variation: Number = Field(description="Their take-to-take SD, at least the metric's floor.")
    sessions: int
    z: Number = Field(description="(value - personal_median) / usual_variation.")
    personal_score: Score = Field(description="The personal curve at z (0-10).")
    score: Score = Field(description="The blend the categories and levels use.")


class ProgressBody(Body):
    """This session against the subject's earlier ones (docs/progress.md)."""

    earlier_sessions: int
    min_sessions: int = Field(description="Earlier sessions progress needs.")
    sessions_needed: int = Field(description="More earlier sessions before progress is judged; 0 when it is.")
    reason: str | None = Field(description="Why there is no progress yet.")
    metrics: list[ProgressMetric]
    feedback: list[str] = Field(description="The same in words (also at the end of detailed_feedback).")
    calibration: list[PersonalCalibration] = Field(
        description="Metrics also judged against the subject's own distribution (after enough sessions)."
    )


class VideoAnalysis(Body):
    """The `analyze-video` body: the guide's fields, each computed from the video, plus the evidence."""

    overall_score: int | None = Field(
        description="0-100; null without scored speech, with the reason in score_details.overall_reason."
    )
    category_scores: CategoryScores
    strengths: list[str]
    areas_for_improvement: list[str]
    filler_word_count: int | None
    speaking_pace_wpm: Number | None
    detailed_feedback: str
    session_summary: str
    recommendation: str
    time_series_scores: list[TimeSeriesRow]
    labeled_moments: list[Moment]
    key_moments: list[KeyMoment]
    score_details: ScoreDetails
    metrics: Metrics
    speakers: Speakers | None = Field(description="Null when one voice (or none) was heard.")
    evidence_quality: EvidenceQuality
    language: LanguageBody
    progress: ProgressBody | None = Field(
        description="With a `subject`: this session against the subject's earlier "
        "ones; null without one, or when the interpretation failed."
    )
    analysis_version: str


class LevelMoment(Body):
    kind: str
    start_s: Number
    end_s: Number


class LevelBody(Body):
    level: str | None
    score: Number | None = Field(description="0..1")
    reason: str
    evidence: dict[str, Number]
    moments: list[LevelMoment]


class SentenceBody(Body):
    text: str
    start_s: Number | None
    end_s: Number | None


class RelevantSentence(SentenceBody):
    similarity: Number


class RelevanceBody(Body):
    score: Number | None
    cosine: Number | None
    level: str | None
    reason: str
    evidence: list[RelevantSentence] | None


class Transition(Body):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    similarity: Number
    at_s: Number | None


class CoherenceEvidence(Body):
    weakest_transition: Transition


class CoherenceBody(Body):
    score: Number | None
    reason: str
    evidence: CoherenceEvidence | None


class Content(Body):
    relevance_to_context: RelevanceBody
    coherence: CoherenceBody
    summary: list[SentenceBody]
    sentence_count: int


class EngineAnalysis(Body):
    engine_version: str
    params_version: str
    model: str
    engagement: LevelBody
    composure: LevelBody
    expressiveness: LevelBody
    vocal_energy: LevelBody
    eye_contact: LevelBody
    content: Content


class TranscriptWord(Body):
    word: str
    start_s: Number
    end_s: Number
    probability: Number | None
    speaker: int | None = Field(description="Who said it, when more than one voice was heard.")


class TranscriptDetails(Body):
    text: str
    source: str
    timing: str
    language: str = Field(
        description="The language the speech was decoded as (a provided transcript: the language it is taken to be in)."
    )
    model: str | None = Field(
        description="The Whisper model that transcribed (docs/languages.md); null for a provided transcript."
    )
    confidence: Number | None
    segments: list[tuple[Number, Number, str]]
    words: list[TranscriptWord]


class FullAnalysis(Body):
    """The `full-analysis` body: the standard analysis plus the engine's interpretation and what it read."""

    sessionId: str | None
    video_analysis: VideoAnalysis
    engine_analysis: EngineAnalysis | None = Field(
        description="Null if the engine step is unavailable or fails; the reason is in engine_analysis_reason."
    )
    engine_analysis_reason: str | None
    engine_kpis: dict[str, Union[StrictInt, Number, list[list[Number]], None]]
    transcript: str | None
    transcript_details: TranscriptDetails | None
    language: LanguageBody
    videoUrl: str | None = Field(description="Temporary URL of the uploaded video (docs/video-storage.md).")
    videoUrlReason: str | None = Field(
        description="Why videoUrl is null, when it is: storage off, a quota, free disk, a storage failure."
    )


# Builders: the analysis records -> the bodies above.


def _moment(e: Event, say: Say) -> Moment:
    return Moment(type=e.kind, start_s=e.start_s, end_s=e.end_s, label=say(e.label), evidence=e.evidence)


def _intervals(pairs) -> list[Interval] | None:
    return None if pairs is None else [Interval(start_s=a, end_s=b, duration_s=b - a) for a, b in pairs]


def _metrics(analysis: Analysis, say: Say) -> Metrics:
    s, v, f = analysis.signals.speech, analysis.signals.voice, analysis.signals.face
    speech = voice = face = language = None
    if s is not None:
        speech = SpeechMetrics(
            word_count=s.word_count,
            speaking_time_s=s.speaking_time_s,
            pace_wpm=s.pace_wpm,
            articulation_rate_wpm=s.articulation_rate_wpm,
            rolling_pace=[PaceWindow(**w.__dict__) for w in s.rolling_pace],
            fillers=[Filler(**x.__dict__) for x in s.fillers],
            filler_count=s.filler_count,
            filler_rate_per_min=s.filler_rate_per_min,
            top_fillers=list(s.top_fillers),
            pauses=[Pause(**p.__dict__) for p in s.pauses],
            long_pause_count=s.long_pause_count,
            mean_pause_s=s.mean_pause_s,
            pace_unit=s.pace_unit,
            syllable_count=s.syllable_count,
            syllables_per_s=s.syllables_per_s,
            pace_relative=s.pace_relative,
            reasons={name: say(reason) for name, reason in s.reasons.items()},
        )
    if v is not None:
        voice = VoiceMetrics(
            pitch_median_hz=v.pitch_median_hz,
            pitch_sd_semitones=v.pitch_sd_semitones,
            loudness_range_db=v.loudness_range_db,
            snr_db=v.snr_db,
            speech_segments=list(v.speech_segments),
            monotone_stretches=[
                MonotoneStretch(start_s=a, end_s=b, pitch_sd_semitones=sd) for a, b, sd in v.monotone_stretches
            ],
        )
    if f is not None:
        face = FaceMetrics(
            frames_analyzed=f.frames_analyzed,
            face_frames=f.face_frames,
            face_visible_ratio=f.face_visible_ratio,
            frame_rate_hz=f.frame_rate_hz,
            gaze_source=f.gaze_source,
            eye_contact_ratio=f.eye_contact_ratio,
            look_away_intervals=_intervals(f.look_away_intervals),
            blink_count=f.blink_count,
            blink_rate_per_min=f.blink_rate_per_min,
            head_motion_deg_per_s=f.head_motion_deg_per_s,
            head_yaw_median_deg=f.head_yaw_median_deg,
            head_pitch_median_deg=f.head_pitch_median_deg,
            smile_ratio=f.smile_ratio,
            smile_intervals=_intervals(f.smile_intervals),
        )
    lang = analysis.measurements.language
    if lang is not None:
        language = LanguageMetrics(
            word_count=lang.word_count,
            hedges=[TimedPhrase(**h.__dict__) for h in lang.hedges],
            hedge_rate_per_100_words=lang.hedge_rate_per_100_words,
            repeated_phrases=[
                RepeatedPhrase(text=p.text, count=p.count, times_s=list(p.times_s)) for p in lang.repeated_phrases
            ],
            vocabulary_diversity_mattr=lang.vocabulary_diversity_mattr,
            questions=[TimedPhrase(**q.__dict__) for q in lang.questions],
        )
    body = analysis.signals.body
    return Metrics(
        speech=speech,
        voice=voice,
        face=face,
        language=language,
        body=BodyMetrics.model_validate(_said_body(body, say)) if body is not None else None,
    )


def _said_body(body, say: Say):
    """The body record with its reasons in the answer's language."""
    replace = dataclasses.replace
    return replace(
        body,
        framing=replace(body.framing, reason=say(body.framing.reason)),
        posture=replace(
            body.posture, tilt_reason=say(body.posture.tilt_reason), slouch_reason=say(body.posture.slouch_reason)
        ),
        gestures=replace(body.gestures, reason=say(body.gestures.reason)),
        fidgeting=replace(body.fidgeting, reason=say(body.fidgeting.reason)),
    )


def _evidence_quality(analysis: Analysis, say: Say) -> EvidenceQuality:
    signals, m = analysis.signals, analysis.measurements
    s, v, f, t = signals.timed_speech, signals.voice, signals.face, signals.transcript
    return EvidenceQuality(
        duration_s=signals.duration_s,
        frames_analyzed=signals.frames_analyzed,
        landmark_source=None if signals.face_track is None else signals.face_track.source,
        face_visible_ratio=f.face_visible_ratio if f else None,
        speech_ratio=s.speaking_time_s / signals.duration_s if s is not None and signals.duration_s else None,
        snr_db=v.snr_db if v else None,
        speech_to_text_confidence=t.confidence if t else None,
        transcript_source=None if t is None else t.source,
        word_timing=None if t is None else t.timing,
        missing={
            part: say(reason) for part, reason in (("speech", m.speech_gap), ("face", m.face_gap)) if reason is not None
        },
    )


def _scores(interpretation: Interpretation | None) -> CategoryScores:
    categories = interpretation.categories if interpretation is not None else {}
    return CategoryScores(**{name: getattr(categories.get(name), "score", None) for name in CATEGORIES})


def build_video_analysis(analysis: Analysis) -> VideoAnalysis:
    say = _sayer(analysis)
    m, i = analysis.measurements, analysis.interpretation
    s = analysis.signals.timed_speech
    unavailable = say(analysis.interpretation_failure)
    rows = []
    for n, window in enumerate(m.windows):
        score = i.windows[n] if i is not None else None
        values = window.values
        rows.append(
            TimeSeriesRow(
                start_s=window.start_s,
                end_s=window.end_s,
                pace_wpm=values.get("pace_wpm"),
                filler_count=None if values.get("filler_count") is None else int(values["filler_count"]),
                eye_contact_ratio=values.get("eye_contact_ratio"),
                vocal_energy_db=values.get("vocal_energy_db"),
                pitch_sd_semitones=values.get("pitch_sd_semitones"),
                speech_reason=say(window.speech_gap),
                scores=CategoryScores(**(score.categories if score else dict.fromkeys(CATEGORIES))),
                overall_score=score.overall if score else None,
            )
        )
    details = ScoreDetails(
        params_version=i.params_version if i else None,
        rubric_version=i.params_version if i else None,
        observable_only=m.observable_only,
        overall_reason=say(i.overall_reason) if i else unavailable,
        interpretation_reason=unavailable,
        categories={
            name: CategoryDetail(
                score=c.score,
                reason=say(c.reason),
                coverage=c.coverage,
                components=[Component(**x.__dict__) for x in c.components],
            )
            for name, c in (i.categories.items() if i else ())
        },
        withheld={name: say(reason) for name, reason in m.withheld.items()},
    )
    return VideoAnalysis(
        overall_score=i.overall_score if i else None,
        category_scores=_scores(i),
        strengths=[say(x) for x in i.strengths] if i else [],
        areas_for_improvement=[say(x) for x in i.areas_for_improvement] if i else [],
        filler_word_count=s.filler_count if s is not None else None,
        speaking_pace_wpm=s.pace_wpm if s is not None else None,
        detailed_feedback=say(i.detailed_feedback) if i else unavailable,
        session_summary=say(i.session_summary) if i else unavailable,
        recommendation=say(i.recommendation) if i else unavailable,
        time_series_scores=rows,
        labeled_moments=[_moment(e, say) for e in m.events],
        key_moments=[
            KeyMoment(
                type=k.kind,
                start_s=k.start_s,
                end_s=k.end_s,
                label=say(k.label),
                evidence=k.evidence,
                tone=k.tone,
                why=say(k.why),
            )
            for k in (i.key_moments if i else ())
        ],
        score_details=details,
        metrics=_metrics(analysis, say),
        speakers=_speakers(analysis),
        evidence_quality=_evidence_quality(analysis, say),
        language=_language(analysis, say),
        progress=_progress(i.personal, say) if i is not None and i.personal is not None else None,
        analysis_version=ANALYSIS_VERSION,
    )


def _progress(personal: Personal, say: Say) -> ProgressBody:
    """The progress block with its labels, reasons and sentences in the answer's language."""
    p = personal.progress
    return ProgressBody(
        earlier_sessions=p.earlier_sessions,
        min_sessions=p.min_sessions,
        sessions_needed=p.sessions_needed,
        reason=say(p.reason),
        feedback=[say(x) for x in p.feedback],
        metrics=[ProgressMetric(**{**h.__dict__, "label": say(h.label), "reason": say(h.reason)}) for h in p.headlines],
        calibration=[
            PersonalCalibration(
                metric=c.metric,
                value=c.value,
                population_score=c.population_score,
                personal_median=c.baseline.centre,
                usual_variation=c.baseline.spread,
                sessions=c.baseline.sessions,
                z=c.z,
                personal_score=c.personal_score,
                score=c.score,
            )
            for c in personal.calibration
        ],
    )


def _language(analysis: Analysis, say: Say) -> LanguageBody:
    found = analysis.signals.languages
    return LanguageBody(
        spoken=found.spoken,
        probability=found.probability,
        source=found.source,
        feedback=found.feedback,
        supported=found.supported,
        reason=say(found.reason),
    )


def _speakers(analysis: Analysis) -> Speakers | None:
    found = analysis.signals.speakers
    if found is None:
        return None
    d, c = found.diarization, found.conversation
    return Speakers(
        speaker_count=d.speaker_count,
        analysed_speaker=found.coached,
        method=d.method,
        speakers_expected=d.speakers_expected,
        closest_speakers_similarity=d.closest_speakers_similarity,
        talk_time=[SpeakerShare.model_validate(x) for x in c.speakers],
        turns=[SpeakerSpan.model_validate(t) for t in d.turns],
        longest_monologue=SpeakerSpan.model_validate(c.longest_monologue) if c.longest_monologue else None,
        interruptions=[Interruption.model_validate(i) for i in c.interruptions],
    )


def _level(level: Level, say: Say) -> LevelBody:
    return LevelBody(
        level=level.level,
        score=level.score,
        reason=say(level.reason),
        evidence=level.evidence,
        moments=[LevelMoment(kind=e.kind, start_s=e.start_s, end_s=e.end_s) for e in level.moments],
    )


def _sentence(s: Sentence) -> SentenceBody:
    return SentenceBody(text=s.text, start_s=s.start_s, end_s=s.end_s)


def build_engine_analysis(interpretation: Interpretation, m: Measurements, say: Say) -> EngineAnalysis:
    from softskills.models.interpretation.engine import MODEL_NAME

    r, c = interpretation.relevance, interpretation.coherence
    weakest = None
    if c.weakest is not None:
        before, after, similarity = c.weakest
        weakest = CoherenceEvidence(
            weakest_transition=Transition(
                **{"from": before.text}, to=after.text, similarity=similarity, at_s=after.start_s
            )
        )
    return EngineAnalysis(
        engine_version=ENGINE_VERSION,
        params_version=interpretation.params_version,
        model=MODEL_NAME,
        **{name: _level(level, say) for name, level in interpretation.levels.items()},
        content=Content(
            relevance_to_context=RelevanceBody(
                score=r.score,
                cosine=r.cosine,
                level=r.level,
                reason=say(r.reason),
                evidence=[
                    RelevantSentence(text=s.text, start_s=s.start_s, end_s=s.end_s, similarity=sim)
                    for s, sim in r.evidence
                ]
                if r.cosine is not None
                else None,
            ),
            coherence=CoherenceBody(score=c.score, reason=say(c.reason), evidence=weakest),
            summary=[_sentence(s) for s in interpretation.summary],
            sentence_count=len(m.sentences),
        ),
    )


def engine_kpis(m: Measurements) -> dict[str, Any]:
    """The measured values the engine interpreted, the counts behind them, and the intervals of their events."""
    f = m.facts
    kpis: dict[str, Any] = {"duration_s": m.duration_s, **m.values}
    for name in (
        "word_count",
        "speaking_time_s",
        "filler_count",
        "pause_count",
        "long_pause_count",
        "face_visible_ratio",
        "look_away_count",
        "blink_count",
        "hedge_count",
        "question_count",
    ):
        if getattr(f, name) is not None:
            kpis[name] = getattr(f, name)
    for kind, key in (
        ("long_pause", "long_pause_intervals"),
        ("look_away", "look_away_intervals"),
        ("smile", "smile_intervals"),
        ("monotone", "monotone_stretches"),
    ):
        intervals = [[e.start_s, e.end_s] for e in m.events if e.kind == kind]
        if intervals:
            kpis[key] = intervals
    return kpis


def transcript_details(analysis: Analysis) -> TranscriptDetails | None:
    """Every speaker's words, each labelled with its speaker when there is more than one."""
    t = analysis.signals.full_transcript
    if t is None:
        return None
    found = analysis.signals.speakers
    labels = found.word_speakers if found is not None else (None,) * len(t.words)
    return TranscriptDetails(
        text=t.text,
        source=t.source,
        timing=t.timing,
        language=t.language,
        model=t.model,
        confidence=t.confidence,
        segments=[list(seg) for seg in t.segments],
        words=[
            TranscriptWord(
                word=w.text,
                start_s=w.start_s,
                end_s=w.end_s,
                speaker=label,
                probability=w.probability if t.timing == "measured" else None,
            )
            for w, label in zip(t.words, labels)
        ],
    )


def build_full_analysis(analysis: Analysis, session_id: str | None, video: SavedVideo | None) -> FullAnalysis:
    """`video`: its URL or the reason there is none; None when nothing was kept."""
    say = _sayer(analysis)
    i = analysis.interpretation
    t = analysis.signals.full_transcript
    return FullAnalysis(
        sessionId=session_id,
        video_analysis=build_video_analysis(analysis),
        engine_analysis=build_engine_analysis(i, analysis.measurements, say) if i is not None else None,
        engine_analysis_reason=say(analysis.interpretation_failure),
        engine_kpis=engine_kpis(analysis.measurements),
        transcript=t.text if t is not None else None,
        transcript_details=transcript_details(analysis),
        language=_language(analysis, say),
        videoUrl=getattr(video, "url", None),
        videoUrlReason=say(getattr(video, "reason", None)),
    )


def build_answer(analysis: Analysis, full: bool, session_id: str | None) -> Result:
    """`full-analysis`'s answer (with the kept video's URL) or `analyze-video`'s."""
    return answer_of(
        build_full_analysis(analysis, session_id, analysis.kept_video) if full else build_video_analysis(analysis)
    )


def answer_of(body: VideoAnalysis | FullAnalysis) -> Result:
    """The JSON-ready body, and the scores a report's history keeps, read from the same typed body (so rounded as
    the body states them)."""
    video = body.video_analysis if isinstance(body, FullAnalysis) else body
    summary = Summary(
        video.overall_score, {name: rounded(getattr(video.category_scores, name), SCORE_DIGITS) for name in CATEGORIES}
    )
    return Result(body.model_dump(mode="json", by_alias=True), summary)
