"""What the interpretation reads: every scoreable metric of the whole video (or why it was withheld), the same metrics
in each time window, the timed events behind them, the sentences, and the numbers the feedback cites. One definition
per metric name, computed here from the signals; numpy-free, so it crosses to the engine deployment cheaply.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from softskills.models.face.metrics import BLINK_SCORING_MIN_FPS, mean_head_speed
from softskills.models.i18n.text import Capitalised, Text, say, say_plural
from softskills.models.interpretation.sentences import Sentence, split_sentences
from softskills.models.intervals import overlap_s, subtract
from softskills.models.signals import Signals
from softskills.models.speech.language import LanguageMetrics, analyze_language
from softskills.models.speech.lexicons import ENGLISH_COMFORTABLE_WPM, lexicon
from softskills.models.speech.syllables import unit_counts
from softskills.models.speech.voice import MONOTONE_WINDOW_S

PACE_SPIKE_FACTOR = 1.25  # a window this much faster than the talk's own pace ...
PACE_SPIKE_MIN_WPM = 170.0  # ... and faster than the top of the comfortable range is a spike
PACE_SPIKE_MIN_RELATIVE = PACE_SPIKE_MIN_WPM / ENGLISH_COMFORTABLE_WPM  # the same, in any language's own unit
MIN_WINDOW_SPEECH_S = 1.5  # a window with less speaking time has no speech metrics (a pause is not fluency)
MIN_WINDOW_VOICED_FRAMES = 10
MIN_WINDOW_HEAD_S = 1.0  # a window with less head-tracked time has no head motion
MAX_REPEATED_PHRASE_EVENTS = 3  # the phrases said most often are marked in the timeline, each occurrence once

SPEECH_METRICS = (
    "pace_wpm",
    "pace_relative",
    "filler_rate_per_min",
    "long_pause_rate_per_min",
    "stt_confidence",
    "pitch_sd_semitones",
    "monotone_ratio",
    "loudness_range_db",
    "hedge_rate_per_100_words",
    "vocabulary_diversity_mattr",
)
FACE_METRICS = (
    "eye_contact_ratio",
    "look_away_rate_per_min",
    "smile_ratio",
    "head_motion_deg_per_s",
    "blink_rate_per_min",
)
BODY_METRICS = ("off_centre_ratio", "cut_by_edge_ratio", "slouch_ratio", "gesture_rate_per_min", "fidget_ratio")


@dataclass(frozen=True)
class Event:
    """Something that happened at a time: a filler, a long pause, a look-away, a smile, a hedge, ..."""

    kind: str
    start_s: float
    end_s: float
    label: Text
    evidence: dict


@dataclass(frozen=True)
class WindowMeasurement:
    start_s: float
    end_s: float
    values: dict[str, float | None]  # pace_wpm, filler_count, long_pause_count, stt_confidence, pitch_sd_semitones,
    # vocal_energy_db, eye_contact_ratio, smile_ratio, head_motion_deg_per_s, face_visible_ratio, word_count
    speech_gap: Text | None  # why the window has no speech metrics (pace, fillers, pauses), when it has none


@dataclass(frozen=True)
class Facts:
    """The counts and times the feedback sentences cite (None where not measured)."""

    duration_s: float
    word_count: int | None = None
    speaking_time_s: float | None = None
    filler_count: int | None = None
    top_fillers: tuple[tuple[str, int], ...] = ()
    pause_count: int | None = None
    long_pause_count: int | None = None
    longest_pause: tuple[float, float] | None = None  # (start_s, duration_s)
    pitch_median_hz: float | None = None
    face_visible_ratio: float | None = None
    look_away_count: int | None = None
    blink_count: int | None = None
    hands_visible_ratio: float | None = None
    speaker_count: int | None = None  # when more than one voice was heard
    analysed_speaker: int | None = None
    analysed_talk_share: float | None = None
    hedge_count: int | None = None
    top_hedges: tuple[tuple[str, int], ...] = ()
    top_repeated_phrase: tuple[str, int] | None = None
    question_count: int | None = None
    transcript_source: str | None = None
    spoken_language: str | None = None  # ISO 639-1 code of the transcript's language
    pace_unit: str | None = None  # "syllable" | "mora"
    syllables_per_s: float | None = None  # pace in that unit per second of speaking time
    comfortable_rate: float | None = None  # the centre of the language's comfortable pace, same unit


@dataclass(frozen=True)
class Measurements:
    duration_s: float
    values: dict[str, float]  # scoreable metrics that were measured
    withheld: dict[str, Text]  # scoreable metrics that were not, and why
    facts: Facts
    language: LanguageMetrics | None  # hedges, repeated phrases, vocabulary, questions (with timed speech)
    events: tuple[Event, ...]
    windows: tuple[WindowMeasurement, ...]
    sentences: tuple[Sentence, ...]
    speech_gap: Text | None
    face_gap: Text | None
    observable_only: bool
    context_phrase: str | None
    spoken_language: str = "en"  # ISO 639-1 code: the language every text metric was measured in


def measure(
    signals: Signals, *, window_s: float, observable_only: bool = False, context_phrase: str | None = None
) -> Measurements:
    spoken = signals.transcript.language if signals.transcript is not None else "en"
    language = analyze_language(list(signals.transcript.words), spoken) if signals.timed_speech is not None else None
    values, withheld = {}, {}
    for name, value, reason in (*_speech_values(signals, language), *_face_values(signals), *_body_values(signals)):
        if value is not None and np.isfinite(value):
            values[name] = float(value)
        else:
            withheld[name] = Capitalised(reason)
    windows = tuple(_windows(signals, window_s))
    return Measurements(
        duration_s=signals.duration_s,
        values=values,
        withheld=withheld,
        facts=_facts(signals, language),
        language=language,
        events=tuple(_events(signals, language, windows)),
        windows=windows,
        sentences=tuple(split_sentences(signals.transcript)),
        speech_gap=signals.speech_gap,
        face_gap=signals.face_gap,
        observable_only=observable_only,
        context_phrase=(context_phrase or "").strip() or None,
        spoken_language=spoken,
    )


def _speech_values(signals: Signals, language: LanguageMetrics | None):
    gap = signals.speech_gap
    if gap is not None:
        return [(name, None, gap) for name in SPEECH_METRICS]
    s, v, t = signals.timed_speech, signals.voice, signals.transcript
    span_s = s.speaking_time_s + sum(p.duration_s for p in s.pauses)
    no_voice = say("Too few voiced frames to measure the voice.")
    no_duration = say("No pace: the words have no duration.")
    monotone = None
    if v is not None and v.pitch_sd_semitones is not None and span_s >= MONOTONE_WINDOW_S:
        monotone = min(1.0, sum(b - a for a, b, _ in v.monotone_stretches) / s.speaking_time_s)
    english = s.language == "en"
    return [
        ("pace_wpm", s.pace_wpm, s.reasons.get("pace_wpm", no_duration)),
        ("pace_relative", s.pace_relative, s.reasons.get("pace_relative", no_duration)),
        ("filler_rate_per_min", s.filler_rate_per_min, s.reasons.get("filler_rate_per_min", gap)),
        ("long_pause_rate_per_min", 60.0 * s.long_pause_count / span_s, gap),
        (
            "stt_confidence",
            t.confidence if t.timing == "measured" else None,
            say("The words come from a provided transcript, so there is no recognition confidence."),
        ),
        ("pitch_sd_semitones", v.pitch_sd_semitones if v else None, no_voice),
        (
            "monotone_ratio",
            monotone,
            no_voice
            if v is None or v.pitch_sd_semitones is None
            else say(
                "The speech lasts {seconds:.1f} s, less than the {window:g} s window a flat stretch is judged over.",
                seconds=span_s,
                window=MONOTONE_WINDOW_S,
            ),
        ),
        ("loudness_range_db", v.loudness_range_db if v else None, no_voice),
        (
            "hedge_rate_per_100_words",
            language.hedge_rate_per_100_words,
            language.reasons.get("hedge_rate_per_100_words", gap),
        ),
        (
            "vocabulary_diversity_mattr",
            language.vocabulary_diversity_mattr if english else None,
            say_plural(
                "Only {n} word; vocabulary variety is measured over windows of 50.",
                "Only {n} words; vocabulary variety is measured over windows of 50.",
                language.word_count,
            )
            if english
            else say(
                "Vocabulary variety is scored in English only: its scale was set on English words, and type-token "
                "ratios depend on a language's inflection and tokenization (the ratio itself is in the language "
                "metrics)."
            ),
        ),
    ]


def _face_values(signals: Signals):
    gap = signals.face_gap
    if gap is not None:
        return [(name, None, gap) for name in FACE_METRICS]
    f = signals.face
    visible_min = f.face_frames / f.frame_rate_hz / 60.0 if f.frame_rate_hz else None
    blinks_visible = f.frame_rate_hz is not None and f.frame_rate_hz >= BLINK_SCORING_MIN_FPS
    return [
        ("eye_contact_ratio", f.eye_contact_ratio, gap),
        (
            "look_away_rate_per_min",
            len(f.look_away_intervals) / visible_min if visible_min else None,
            say("Too few frames to time look-aways."),
        ),
        ("smile_ratio", f.smile_ratio, gap),
        ("head_motion_deg_per_s", f.head_motion_deg_per_s, say("Too few consecutive face frames to measure motion.")),
        (
            "blink_rate_per_min",
            f.blink_rate_per_min if blinks_visible else None,
            say(
                "Frames were analysed at {rate:.0f} per second; blinks of 100-150 ms fall between them below "
                "{least:.0f}, so the blink count ({count}) is a lower bound and not scored.",
                rate=f.frame_rate_hz or 0,
                least=BLINK_SCORING_MIN_FPS,
                count=f.blink_count,
            ),
        ),
    ]


def _body_values(signals: Signals):
    b = signals.body
    if b is None:
        reason = (
            say("The file has no video track.")
            if not signals.has_video
            else say("Body pose was not analysed (analysis.pose_frame_rate_hz is 0, or client samples carry no pose).")
        )
        return [(name, None, reason) for name in BODY_METRICS]
    return [
        ("off_centre_ratio", b.framing.off_centre_ratio, b.framing.reason),
        ("cut_by_edge_ratio", b.framing.cut_by_edge_ratio, b.framing.reason),
        ("slouch_ratio", b.posture.slouch_ratio, b.posture.slouch_reason),
        ("gesture_rate_per_min", b.gestures.gesture_rate_per_min, b.gestures.reason),
        ("fidget_ratio", b.fidgeting.fidget_ratio, b.fidgeting.reason),
    ]


def _facts(signals: Signals, language: LanguageMetrics | None) -> Facts:
    s, v, f = signals.timed_speech, signals.voice, signals.face
    speech: dict = {}
    if s is not None:
        longs = [p for p in s.pauses if p.is_long]
        longest = max(longs, key=lambda p: p.duration_s) if longs else None
        speech = dict(
            word_count=s.word_count,
            speaking_time_s=s.speaking_time_s,
            filler_count=s.filler_count,
            top_fillers=tuple(s.top_fillers),
            pause_count=len(s.pauses),
            long_pause_count=len(longs),
            longest_pause=(longest.start_s, longest.duration_s) if longest else None,
            pitch_median_hz=v.pitch_median_hz if v is not None else None,
            spoken_language=s.language,
            pace_unit=s.pace_unit,
            syllables_per_s=s.syllables_per_s,
            comfortable_rate=lex.comfortable_rate if (lex := lexicon(s.language)) is not None else None,
        )
    if language is not None:
        hedges = Counter(h.text for h in language.hedges).most_common(2)
        top_phrase = language.repeated_phrases[0] if language.repeated_phrases else None
        speech.update(
            hedge_count=len(language.hedges),
            top_hedges=tuple(hedges),
            top_repeated_phrase=(top_phrase.text, top_phrase.count) if top_phrase else None,
            question_count=len(language.questions),
        )
    face: dict = {}
    if f is not None and signals.face_gap is None:
        face = dict(
            face_visible_ratio=f.face_visible_ratio,
            look_away_count=len(f.look_away_intervals),
            blink_count=f.blink_count,
        )
    body = {} if signals.body is None else {"hands_visible_ratio": signals.body.gestures.hands_visible_ratio}
    found = signals.speakers
    if found is not None:
        share = next((x.talk_share for x in found.conversation.speakers if x.speaker == found.coached), None)
        body.update(
            speaker_count=found.diarization.speaker_count, analysed_speaker=found.coached, analysed_talk_share=share
        )
    return Facts(
        duration_s=signals.duration_s,
        **body,
        transcript_source=signals.transcript.source if signals.transcript is not None else None,
        **speech,
        **face,
    )


def _windows(signals: Signals, window_s: float):
    talk = _talk_intervals(signals)
    duration_s = signals.duration_s
    units = unit_counts(signals.transcript.words, signals.timed_speech.language) if talk is not None else None
    start = 0.0
    while start < duration_s:
        end = float(min(start + window_s, duration_s))
        if end - start < window_s / 2 and start > 0:
            break  # a short tail window would swing the chart; its evidence is in the previous one's neighbourhood
        yield WindowMeasurement(round(start, 6), end, *_window_values(signals, talk, start, end, units))
        start += window_s


def _talk_intervals(signals: Signals) -> list[tuple[float, float]] | None:
    """When the analysed person talks: from their first word to their last, less their pauses and, in a
    conversation, less every other speaker's turn (their speaker view's cut: another person's talk is neither this
    person's speaking time nor a pause). None without scored speech."""
    speech = signals.timed_speech if signals.speech_gap is None else None
    if speech is None:
        return None
    words = signals.transcript.words
    first_s, last_s = words[0].start_s, words[-1].end_s
    turns = signals.speakers.coached_turns if signals.speakers is not None else None
    own = (
        [(first_s, last_s)]
        if turns is None
        else [(max(a, first_s), min(b, last_s)) for a, b in sorted(turns) if min(b, last_s) > max(a, first_s)]
    )
    return subtract(own, [(p.start_s, p.end_s) for p in speech.pauses])


def _window_pace(speech, wpm: float, units: list[int] | None, inside: list[bool], spoken_s: float) -> dict:
    """The window's pace as the whole talk's is measured: words per minute where words are the unit, and the
    pace relative to the language's comfortable centre (English: from words per minute)."""
    lex = lexicon(speech.language)
    if lex is None:
        return {"pace_wpm": wpm}
    if speech.language == "en":
        return {"pace_wpm": wpm, "pace_relative": wpm / ENGLISH_COMFORTABLE_WPM}
    out: dict[str, float | None] = {"pace_wpm": wpm if lex.words_are_units else None}
    if units is not None:
        out["syllables_per_s"] = sum(n for n, k in zip(units, inside) if k) / spoken_s
        out["pace_relative"] = out["syllables_per_s"] / lex.comfortable_rate
    return out


def _window_values(
    signals: Signals,
    talk: list[tuple[float, float]] | None,
    start_s: float,
    end_s: float,
    units: list[int] | None = None,
) -> tuple[dict[str, float | None], str | None]:
    """The window's metrics from the same per-word and per-frame evidence as the whole video's, and why it has no
    speech metrics when it has none. A window with too little of the person's speech has none: its silence, or
    another speaker's turn, is neither fluency nor a pause rate (a pace of 0 would score as the slowest talk).
    `units`: each word's pace units (syllables or morae) in the spoken language."""
    values: dict[str, float | None] = {}
    speech_gap = signals.speech_gap
    if talk is not None:
        speech, words = signals.timed_speech, signals.transcript.words
        spoken_s = sum(overlap_s(start_s, end_s, a, b) for a, b in talk)
        if spoken_s >= MIN_WINDOW_SPEECH_S:
            inside = [start_s <= (w.start_s + w.end_s) / 2 < end_s for w in words]
            in_window = [w for w, k in zip(words, inside) if k]
            probabilities = [w.probability for w in in_window]
            values.update(
                word_count=float(len(in_window)),
                **_window_pace(speech, len(in_window) / spoken_s * 60.0, units, inside, spoken_s),
                filler_count=None
                if speech.filler_count is None
                else float(sum(start_s <= f.start_s < end_s for f in speech.fillers)),
                long_pause_count=float(sum(start_s <= p.start_s < end_s and p.is_long for p in speech.pauses)),
                stt_confidence=float(np.mean(probabilities))
                if probabilities and signals.transcript.timing == "measured"
                else None,
            )
        else:
            speech_gap = _quiet_window_reason(signals, start_s, end_s)
        voice = signals.voice
        if voice is not None and len(voice.loudness_db):
            frames = slice(int(start_s / voice.hop_s), int(np.ceil(end_s / voice.hop_s)))
            voiced, f0, loud = voice.voiced[frames], voice.f0_hz[frames], voice.loudness_db[frames]
            if voiced.sum() >= MIN_WINDOW_VOICED_FRAMES:
                semitones = 12 * np.log2(f0[voiced] / np.nanmedian(f0[voiced]))
                values.update(
                    pitch_sd_semitones=float(np.nanstd(semitones)), vocal_energy_db=float(np.mean(loud[voiced]))
                )
    face = signals.face
    if signals.face_gap is None:
        selected = (face.frame_times_s >= start_s) & (face.frame_times_s < end_s)
        if selected.any():
            visible = face.face_found[selected]
            values["face_visible_ratio"] = float(visible.mean())
            if visible.any():
                values["eye_contact_ratio"] = float(np.mean(face.eye_contact[selected][visible]))
                values["smile_ratio"] = float(np.mean(face.smile[selected][visible]))
            speeds = face.head_speed_deg_per_s[selected]
            if face.frame_rate_hz and np.isfinite(speeds).sum() / face.frame_rate_hz >= MIN_WINDOW_HEAD_S:
                values["head_motion_deg_per_s"] = mean_head_speed(speeds)
    return values, speech_gap


def _quiet_window_reason(signals: Signals, start_s: float, end_s: float) -> Text:
    """Why a window of a recording with speech has no speech metrics: another speaker's turn, or too little talk."""
    found = signals.speakers
    if found is not None and found.coached is not None:
        others: Counter = Counter()
        for span in found.diarization.speech:
            if span.speaker != found.coached:
                others[span.speaker] += overlap_s(start_s, end_s, span.start_s, span.end_s)
        speaker, talk_s = max(others.items(), key=lambda item: item[1], default=(None, 0.0))
        if talk_s >= MIN_WINDOW_SPEECH_S:
            return say(
                "Speaker {speaker} is talking here and speaker {analysed}, the one analysed, is listening "
                "(under {least:g} s of their own speech): no pace, fillers or pauses to measure.",
                speaker=speaker,
                analysed=found.coached,
                least=MIN_WINDOW_SPEECH_S,
            )
    return say(
        "Under {least:g} s of speech in this window: too little to measure pace, fillers or pauses.",
        least=MIN_WINDOW_SPEECH_S,
    )


def _events(signals: Signals, language: LanguageMetrics | None, windows: tuple[WindowMeasurement, ...]):
    events: list[Event] = []
    speech, voice, face = signals.timed_speech, signals.voice, signals.face
    if speech is not None:
        events += [
            Event(
                "filler", f.start_s, f.end_s, say('Filler "{word}"', word=f.word), {"word": f.word, "method": f.method}
            )
            for f in speech.fillers
        ]
        events += [
            Event(
                "long_pause",
                p.start_s,
                p.end_s,
                say("{seconds:.1f} s pause", seconds=p.duration_s),
                {"duration_s": p.duration_s},
            )
            for p in speech.pauses
            if p.is_long
        ]
        talk_pace = speech.pace_relative
        for window in windows:
            pace = window.values.get("pace_relative")
            if talk_pace and pace and pace > max(PACE_SPIKE_FACTOR * talk_pace, PACE_SPIKE_MIN_RELATIVE):
                wpm, rate = window.values.get("pace_wpm"), window.values.get("syllables_per_s")
                label = (
                    say("Fast: {wpm:.0f} wpm", wpm=wpm)
                    if speech.language == "en" or rate is None
                    else say("Fast: {rate:.1f} morae/s", rate=rate)
                    if speech.pace_unit == "mora"
                    else say("Fast: {rate:.1f} syllables/s", rate=rate)
                )
                events.append(
                    Event(
                        "pace_spike",
                        window.start_s,
                        window.end_s,
                        label,
                        {
                            "window_pace_wpm": wpm,
                            "talk_pace_wpm": speech.pace_wpm,
                            "window_pace_relative": pace,
                            "talk_pace_relative": talk_pace,
                        },
                    )
                )
    if language is not None:
        events += [
            Event("hedge", h.start_s, h.end_s, say('Hedge "{phrase}"', phrase=h.text), {"phrase": h.text})
            for h in language.hedges
        ]
        # Translators: a timeline label: a question was asked here.
        events += [Event("question", q.start_s, q.end_s, say("Question"), {"text": q.text}) for q in language.questions]
        for phrase in language.repeated_phrases[:MAX_REPEATED_PHRASE_EVENTS]:
            events += [
                Event(
                    "repeated_phrase",
                    t,
                    t,
                    say('"{phrase}" ({index} of {count})', phrase=phrase.text, index=i, count=phrase.count),
                    {"phrase": phrase.text, "count": phrase.count},
                )
                for i, t in enumerate(phrase.times_s, 1)
            ]
    if speech is not None and voice is not None:
        events += [
            Event(
                "monotone",
                a,
                b,
                say("Flat pitch for {seconds:.0f} s ({sd:.1f} semitones SD)", seconds=b - a, sd=sd),
                {"pitch_sd_semitones": sd},
            )
            for a, b, sd in voice.monotone_stretches
        ]
    if signals.face_gap is None:
        events += [
            Event("look_away", a, b, say("Looked away for {seconds:.1f} s", seconds=b - a), {"duration_s": b - a})
            for a, b in face.look_away_intervals
        ]
        events += [
            Event("smile", a, b, say("Smile ({seconds:.1f} s)", seconds=b - a), {"duration_s": b - a})
            for a, b in face.smile_intervals
        ]
    if signals.speakers is not None:
        c = signals.speakers.conversation
        events += [
            Event(
                "interruption",
                i.start_s,
                i.start_s,
                say(
                    "Speaker {speaker} took over from speaker {interrupted}",
                    speaker=i.speaker,
                    interrupted=i.interrupted_speaker,
                ),
                {"speaker": i.speaker, "interrupted_speaker": i.interrupted_speaker, "gap_s": i.gap_s},
            )
            for i in c.interruptions
        ]
        if c.longest_monologue is not None:
            m = c.longest_monologue
            events.append(
                Event(
                    "longest_monologue",
                    m.start_s,
                    m.end_s,
                    say("Speaker {speaker} speaks for {seconds:.0f} s", speaker=m.speaker, seconds=m.duration_s),
                    {"speaker": m.speaker, "duration_s": m.duration_s},
                )
            )
    if signals.body is not None:
        events += [
            Event(
                m.kind, m.start_s, m.end_s, Capitalised(m.label(), full_stop=False), {"duration_s": m.end_s - m.start_s}
            )
            for m in signals.body.moments()
        ]
    return sorted(events, key=lambda e: (e.start_s, e.kind))
