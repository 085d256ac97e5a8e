"""Feedback sentences from the metric scores of the interpretation model: every sentence cites a number or a time
from this video, a metric is a strength or an area (never both, the thresholds leave a gap between them), and a
time is cited once."""

from __future__ import annotations

from softskills.models.intervals import clock
from softskills.models.measurements import Measurements

SENTENCE_LANGUAGE = "en"  # the language of every sentence written here (message catalogs per language: issue 24)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _times(m: Measurements, kind: str, limit: int = 3) -> str:
    """The start times of the first events of a kind, each clock time once ("0:04, 0:04" reads as a typo)."""
    clocks = list(dict.fromkeys(clock(e.start_s) for e in m.events if e.kind == kind))
    return ", ".join(clocks[:limit])


def _counts(pairs) -> str:
    return ", ".join(f'"{word}" ×{n}' for word, n in pairs)


# How each metric reads inside a reason sentence.
METRIC_TEXT = {
    "pace_wpm": lambda v: f"pace {v:.0f} wpm",
    "pace_relative": lambda v: f"pace {v:.2f}× the language's comfortable centre",
    "filler_rate_per_min": lambda v: f"{v:.1f} fillers/min",
    "long_pause_rate_per_min": lambda v: f"{v:.1f} long pauses/min",
    "stt_confidence": lambda v: f"recognition confidence {v:.0%}",
    "pitch_sd_semitones": lambda v: f"pitch variation {v:.1f} semitones",
    "monotone_ratio": lambda v: f"{v:.0%} of speech in flat stretches",
    "loudness_range_db": lambda v: f"loudness range {v:.0f} dB",
    "hedge_rate_per_100_words": lambda v: f"{v:.1f} hedges per 100 words",
    "vocabulary_diversity_mattr": lambda v: f"vocabulary variety {v:.2f}",
    "coherence_cosine": lambda v: f"coherence {v:.2f}",
    "relevance_cosine": lambda v: f"relevance {v:.2f}",
    "eye_contact_ratio": lambda v: f"eye contact on {v:.0%} of face-visible frames",
    "look_away_rate_per_min": lambda v: f"{v:.1f} look-aways/min",
    "smile_ratio": lambda v: f"smiling on {v:.0%} of frames",
    "head_motion_deg_per_s": lambda v: f"head motion {v:.1f}°/s",
    "blink_rate_per_min": lambda v: f"{v:.0f} blinks/min",
    "off_centre_ratio": lambda v: f"off-centre {v:.0%} of the time",
    "cut_by_edge_ratio": lambda v: f"face cut by the frame {v:.0%} of the time",
    "slouch_ratio": lambda v: f"slouching {v:.0%} of the time",
    "gesture_rate_per_min": lambda v: f"{v:.0f} gestures/min",
    "fidget_ratio": lambda v: f"fidgeting {v:.0%} of the time",
}


def metric_text(metric: str, value: float) -> str:
    return METRIC_TEXT[metric](value)


def describe(metric: str, value: float, m: Measurements, strong: bool) -> str:
    """One sentence about one metric, in this video's numbers."""
    f = m.facts
    if metric == "pace_wpm":
        if strong:
            return f"Comfortable pace: {value:.0f} words per minute of speaking time."
        side = "fast" if value > 165 else "slow"
        return f"Pace is {side} at {value:.0f} words per minute (aim for 130-165)."
    if metric == "pace_relative":
        unit = "morae" if f.pace_unit == "mora" else "syllables"
        centre = f.comfortable_rate
        if strong:
            return f"Comfortable pace: {f.syllables_per_s:.1f} {unit} per second of speaking time."
        side = "fast" if value > 1.1 else "slow"
        return (f"Pace is {side} at {f.syllables_per_s:.1f} {unit} per second (aim for {0.9 * centre:.1f}-"
                f"{1.1 * centre:.1f} in this language).")
    if metric == "filler_rate_per_min":
        if strong:
            return f"Fluent delivery: {plural(f.filler_count, 'filler word')} in {f.speaking_time_s:.0f} s of speech."
        at = _times(m, "filler")
        return (f"{plural(f.filler_count, 'filler word')} ({value:.1f} per minute; {_counts(f.top_fillers)})"
                + (f", for example at {at}." if at else "."))
    if metric == "long_pause_rate_per_min":
        if strong:
            return f"Pauses are brief: {plural(f.long_pause_count, 'pause')} of 2 s or more."
        start_s, duration_s = f.longest_pause
        return (f"{plural(f.long_pause_count, 'long pause')} ({value:.1f} per minute); the longest is "
                f"{duration_s:.1f} s at {clock(start_s)}.")
    if metric == "stt_confidence":
        if strong:
            return f"Clear articulation: the recogniser heard words with {value:.0%} mean confidence."
        return f"Some words are hard to make out (recognition confidence {value:.0%}); speak up and finish words."
    if metric == "pitch_sd_semitones":
        if strong:
            return f"Lively voice: pitch varies by {value:.1f} semitones."
        return f"Voice is fairly flat: pitch varies by only {value:.1f} semitones (3+ sounds engaged)."
    if metric == "monotone_ratio":
        if strong:
            return f"Pitch keeps moving: only {value:.0%} of speaking time in flat stretches."
        return f"{value:.0%} of speaking time is in flat-pitch stretches, e.g. at {_times(m, 'monotone')}."
    if metric == "loudness_range_db":
        if strong:
            return f"Good vocal dynamics: a {value:.0f} dB loudness range."
        return (f"Loudness barely changes ({value:.0f} dB range): stress key words." if value < 14 else
                f"Loudness swings widely ({value:.0f} dB range): keep a steady distance to the microphone.")
    if metric == "hedge_rate_per_100_words":
        if strong:
            return f"Assertive wording: {plural(f.hedge_count, 'hedge')} in {f.word_count} words."
        return (f"{plural(f.hedge_count, 'hedge')} ({value:.1f} per 100 words; {_counts(f.top_hedges)}), "
                f"e.g. at {_times(m, 'hedge')}.")
    if metric == "vocabulary_diversity_mattr":
        if strong:
            return f"Varied vocabulary (type-token ratio {value:.2f} over 50-word windows)."
        repeated = (f'; "{f.top_repeated_phrase[0]}" comes {f.top_repeated_phrase[1]} times'
                    if f.top_repeated_phrase else "")
        return f"Vocabulary repeats itself (type-token ratio {value:.2f} over 50-word windows{repeated})."
    if metric == "coherence_cosine":
        if strong:
            return f"Ideas connect: consecutive sentences stay on topic (coherence {value:.2f})."
        return f"Sentences jump between topics (coherence {value:.2f}): link each point to the one before."
    if metric == "relevance_cosine":
        if strong:
            return f'On topic for "{m.context_phrase}" (relevance {value:.2f}).'
        return f'The talk drifts from "{m.context_phrase}" (relevance {value:.2f}).'
    if metric == "eye_contact_ratio":
        looks = [e for e in m.events if e.kind == "look_away"]
        if strong:
            return f"Strong eye contact: looking at the camera in {value:.0%} of the frames with a face."
        longest = max(looks, key=lambda e: e.end_s - e.start_s) if looks else None
        where = f"; longest look-away at {clock(longest.start_s)}" if longest else ""
        return f"Eye contact in {value:.0%} of the frames with a face ({plural(len(looks), 'look-away')}{where})."
    if metric == "look_away_rate_per_min":
        if strong:
            return f"Steady gaze: {value:.1f} look-aways per minute."
        return f"Gaze wanders: {value:.1f} look-aways per minute, e.g. at {_times(m, 'look_away')}."
    if metric == "smile_ratio":
        if strong:
            return f"Warm expression: smiling in {value:.0%} of the face-visible frames."
        return f"Smiling in {value:.0%} of the face-visible frames: a smile at the start and end helps."
    if metric == "head_motion_deg_per_s":
        if strong:
            return f"Natural head movement ({value:.1f}°/s)."
        return (f"Head moves a lot ({value:.1f}°/s on average)." if value > 10
                else f"Head is very still ({value:.1f}°/s): natural nods help.")
    if metric == "blink_rate_per_min":
        if strong:
            return f"Relaxed blink rate ({value:.0f} per minute)."
        return (f"Blink rate is high ({value:.0f} per minute), often a sign of tension." if value > 26
                else f"Blink rate is low ({value:.0f} per minute): a fixed stare reads as tense.")
    if metric in ("off_centre_ratio", "cut_by_edge_ratio"):
        kind = "off_centre" if metric == "off_centre_ratio" else "cut_by_edge"
        if strong:
            return f"Well framed: your face stays centred and in frame ({value:.0%} of the time otherwise)."
        what = "off-centre" if kind == "off_centre" else "cut by the frame edge"
        return f"Your face is {what} {value:.0%} of the time, e.g. at {_times(m, kind)}."
    if metric == "slouch_ratio":
        if strong:
            return f"Upright posture: slouching {value:.0%} of the time."
        return f"Slouching {value:.0%} of the time (below your own upright height), e.g. at {_times(m, 'slouching')}."
    if metric == "gesture_rate_per_min":
        if strong:
            return f"Expressive hands: {value:.0f} gestures per minute while they are visible."
        return (f"Few gestures ({value:.0f} per minute while your hands are visible): let your hands show the "
                "structure." if value < 15 else f"Hands move constantly ({value:.0f} gestures per minute).")
    if metric == "fidget_ratio":
        if strong:
            return f"Still and composed: fidgeting {value:.0%} of the time."
        return f"Small restless movements {value:.0%} of the time, e.g. at {_times(m, 'fidgeting')}."
    raise KeyError(metric)


ADVICE = {
    "pace_wpm": "Record one take aiming for about 150 words per minute: mark a breath after each sentence.",
    "pace_relative": "Record one take at the middle of that range: mark a breath after each sentence.",
    "filler_rate_per_min": "Replace each filler with a silent pause: rehearse the opening of each point until "
                           "it starts without 'um'.",
    "long_pause_rate_per_min": "Outline your points as three keywords so the next idea is ready before you "
                               "finish the current one.",
    "stt_confidence": "Slow the ends of sentences and keep the microphone close; re-record in a quieter room.",
    "pitch_sd_semitones": "Pick the one word per sentence that matters most and lift your pitch on it.",
    "monotone_ratio": "Read one paragraph aloud exaggerating ups and downs, then speak the talk with half that range.",
    "loudness_range_db": "Practise stressing key words a little louder and dropping your voice for asides.",
    "hedge_rate_per_100_words": "State each main point once without 'I think' or 'maybe', then give the evidence.",
    "vocabulary_diversity_mattr": "Write three alternatives for the phrase you repeat most and use them.",
    "coherence_cosine": "Open each point with a phrase that links it to the last one ('Because of that, ...').",
    "relevance_cosine": "Name the scenario's goal in your first sentence and tie each point back to it.",
    "eye_contact_ratio": "Put a sticker next to the lens and finish each sentence looking at it.",
    "look_away_rate_per_min": "Keep notes at lens height so reading them does not pull your eyes away.",
    "smile_ratio": "Open and close with a genuine smile; think of why the topic matters to you.",
    "head_motion_deg_per_s": "Plant your feet or sit back in the chair, and let nods come on key points only.",
    "blink_rate_per_min": "Take two slow breaths before recording; tension shows in the eyes.",
    "off_centre_ratio": "Put the camera straight in front of you and your eyes on the upper third line.",
    "cut_by_edge_ratio": "Sit back until your whole head and shoulders are in the preview.",
    "slouch_ratio": "Sit on the front half of the chair with both feet flat; check your height in the preview.",
    "gesture_rate_per_min": "Frame yourself to the waist and use one open-hand gesture per main point.",
    "fidget_ratio": "Rest your hands on the table between gestures and keep your shoulders still.",
}


def rank(categories: dict) -> list[tuple[str, float, float]]:
    """(metric, value, score) for every metric that entered any category, once, best first."""
    seen: dict[str, tuple[float, float]] = {}
    for category in categories.values():
        for c in category.components:
            seen[c.metric] = (c.value, c.score)
    return sorted(((k, v, s) for k, (v, s) in seen.items()), key=lambda t: (-t[2], t[0]))


def strengths(ranked, m: Measurements, params: dict) -> tuple[str, ...]:
    cfg = params["feedback"]
    return tuple(describe(k, v, m, True) for k, v, s in ranked if s >= cfg["strength_from"])[:cfg["max_strengths"]]


def areas(ranked, m: Measurements, params: dict) -> tuple[str, ...]:
    cfg = params["feedback"]
    weak = [describe(k, v, m, False) for k, v, s in reversed(ranked) if s < cfg["area_below"]][:cfg["max_areas"]]
    return tuple(weak + missing_evidence(m))


def missing_evidence(m: Measurements) -> list[str]:
    """A sentence for each part of the video that gave nothing to measure."""
    reasons = []
    if m.speech_gap is not None:
        reasons.append(m.speech_gap if m.speech_gap.startswith(("Only ", "The words")) else
                       f"{m.speech_gap.rstrip('.')}: pace, fillers and voice could not be measured.")
    if m.face_gap is not None:
        reasons.append("No face was visible: eye contact and expressions could not be measured.")
    return reasons


def recommendation(ranked, m: Measurements, params: dict) -> str:
    if not ranked:
        missing = missing_evidence(m)
        return (" ".join(missing) + " Record again with your face in frame and the microphone on.") if missing \
            else "Record a longer take (at least 30 seconds of speech) for a full analysis."
    metric, value, score = ranked[-1]
    if score >= params["feedback"]["area_below"]:
        best = ranked[0]
        return (f"Every measured area scores {score:.1f}/10 or better; keep your "
                f"{params['metrics'][best[0]]['label']} and try a longer, unscripted take.")
    return f"Focus on one thing next take: {describe(metric, value, m, False)} {ADVICE[metric]}"


def detailed(ranked, m: Measurements, params: dict) -> str:
    parts = []
    f = m.facts
    if f.word_count is not None:
        pace = m.values.get("pace_wpm")
        unit = "morae" if f.pace_unit == "mora" else "syllables"
        spoken, rate = plural(f.word_count, "word"), f" ({pace:.0f} wpm)" if pace is not None else ""
        if pace is None and f.syllables_per_s is not None:  # words are not the unit (Japanese, Chinese)
            spoken = f"{f.syllables_per_s * f.speaking_time_s:.0f} {unit}"
            rate = f" ({f.syllables_per_s:.1f} per second)"
        parts.append(f"You spoke {spoken} in {f.speaking_time_s:.0f} s of speaking time" + rate
                     + f", with {plural(f.filler_count, 'filler word')} and {plural(f.pause_count, 'pause')} of 1 s "
                       f"or more ({f.long_pause_count} of them 2 s or longer).")
        if "pitch_sd_semitones" in m.values and f.pitch_median_hz is not None:
            loud = m.values.get("loudness_range_db")
            parts.append(f"Your pitch centred on {f.pitch_median_hz:.0f} Hz and varied by "
                         f"{m.values['pitch_sd_semitones']:.1f} semitones"
                         + (f"; loudness spanned {loud:.0f} dB." if loud is not None else "."))
    if m.face_gap is None:
        text = f"Your face was visible in {f.face_visible_ratio:.0%} of the frames"
        if "eye_contact_ratio" in m.values:
            text += f", you looked at the camera in {m.values['eye_contact_ratio']:.0%} of them"
        if "smile_ratio" in m.values:
            text += f" and smiled in {m.values['smile_ratio']:.0%}"
        parts.append(text + ".")
    cfg = params["feedback"]
    if ranked and ranked[0][2] >= cfg["strength_from"]:
        parts.append(f"Strongest: {describe(ranked[0][0], ranked[0][1], m, True)}")
    if ranked and ranked[-1][2] < cfg["area_below"]:
        parts.append(f"To work on: {describe(ranked[-1][0], ranked[-1][1], m, False)}")
    parts += missing_evidence(m)
    return " ".join(parts)


def session_summary(m: Measurements, summary, categories: dict, overall: int | None) -> str:
    duration = f"{m.duration_s:.0f} s video"
    if not m.sentences:
        what = "no speech was transcribed"
    else:  # a provided transcript that no detected speech placed in time is quoted without times
        timed = m.speech_gap is None or m.speech_gap.startswith("Only ")
        quotes = " ".join(f'[{clock(s.start_s)}] "{s.text}"' if timed and s.start_s is not None else f'"{s.text}"'
                          for s in summary)
        source = " (provided transcript)" if m.facts.transcript_source == "provided" else ""
        count = m.facts.word_count if m.facts.word_count is not None else sum(len(s.text.split()) for s in m.sentences)
        what = f"{count} words{source}; main points: {quotes}"
    f = m.facts
    if f.speaker_count:
        who = ("everyone together is analysed" if f.analysed_speaker is None else
               f"speaker {f.analysed_speaker} is analysed ({f.analysed_talk_share:.0%} of the talk time)")
        what = f"{f.speaker_count} speakers ({who}); " + what
    scored = {n: c.score for n, c in categories.items() if c.score is not None}
    how = ""
    if scored:
        how = (f" Overall {overall}/100; " if overall is not None else " ") + ", ".join(
            f"{n} {v:.1f}/10" for n, v in scored.items()) + "."
    return f"In this {duration}, {what}.{how}"


# Progress against the subject's own baseline (models/progress.py). Each sentence is a plain function of its numbers.

PROGRESS_TEXT = {
    "filler_rate_per_min": lambda v: f"{v:.1f} per minute",
    "pace_wpm": lambda v: f"{v:.0f} wpm",
    "pace_relative": lambda v: f"{v:.2f}× the language's comfortable pace",
    "long_pause_rate_per_min": lambda v: f"{v:.1f} per minute",
    "pitch_sd_semitones": lambda v: f"{v:.1f} semitones",
    "eye_contact_ratio": lambda v: f"{v:.0%} of the frames",
    "hedge_rate_per_100_words": lambda v: f"{v:.1f} per 100 words",
    "overall": lambda v: f"{v:.0f}/100",
}


def progress_number(name: str, value: float) -> str:
    """A headline's value as progress sentences cite it (category scores out of 10)."""
    return PROGRESS_TEXT[name](value) if name in PROGRESS_TEXT else f"{value:.1f}/10"


def progress_improved(label: str, value: str, baseline: str, sessions: int) -> str:
    return (f"Better than your usual, beyond your take-to-take variation: your {label}, {value} against {baseline} "
            f"(the median of your last {plural(sessions, 'session')}).")


def progress_worse(label: str, value: str, baseline: str, sessions: int) -> str:
    return (f"Worse than your usual, beyond your take-to-take variation: your {label}, {value} against {baseline} "
            f"(the median of your last {plural(sessions, 'session')}).")


def progress_usual(labels: list[str]) -> str:
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"Within your usual take-to-take variation: your {listed}."


def progress_too_few(earlier: int, needed: int) -> str:
    return (f"Progress against your own baseline starts after {earlier + needed} sessions of this subject: "
            f"{plural(needed, 'more session')} to go.")


def progress_focus(label: str, value: str, baseline: str, sessions: int, advice: str) -> str:
    return (f"Focus on one thing next take, where you are worse than your own usual: your {label}, {value} against "
            f"{baseline} (the median of your last {plural(sessions, 'session')}; beyond your take-to-take "
            f"variation). {advice}")


def progress_needs_sessions(need: int, have: int) -> str:
    missing = need - have
    return (f"Progress is judged against at least {need} earlier sessions of the subject; it has {have}, so "
            f"{missing} more {'is' if missing == 1 else 'are'} needed.")


def headline_too_few(label: str, have: int, need: int) -> str:
    return f"{have} earlier session{' has' if have == 1 else 's have'} a value for {label}; progress needs {need}."


def headline_not_measured(label: str) -> str:
    return f"No {label} in this session."


def progress_sentences(progress) -> tuple[str, ...]:
    """What changed beyond the subject's usual variation, then what did not (or how many sessions are still
    needed)."""
    if progress.sessions_needed:
        return (progress_too_few(progress.earlier_sessions, progress.sessions_needed),)
    out = []
    for h in progress.headlines:
        if h.verdict in ("improved", "worse"):
            say = progress_improved if h.verdict == "improved" else progress_worse
            out.append(say(h.label, progress_number(h.name, h.value), progress_number(h.name, h.baseline),
                           h.sessions))
    usual = [h.label for h in progress.headlines if h.verdict == "usual"]
    return tuple(out + ([progress_usual(usual)] if usual else []))


def progress_recommendation(progress) -> str | None:
    """The measured metric most worse than the subject's own baseline (relative to their usual variation), with its
    advice; None when none is."""
    worse = [h for h in progress.headlines if h.verdict == "worse" and h.name in ADVICE]
    if not worse:
        return None
    h = min(worse, key=lambda h: h.improvement / h.threshold)
    return progress_focus(h.label, progress_number(h.name, h.value), progress_number(h.name, h.baseline), h.sessions,
                          ADVICE[h.name])
