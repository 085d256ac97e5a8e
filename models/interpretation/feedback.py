"""Feedback text built from this video's measurements: every sentence cites a number or a time from it."""

from __future__ import annotations

import re
from collections import Counter

from models.interpretation.sentences import split_sentences

STRENGTH_MIN_SCORE = 7.5  # a metric scoring at least this (0..10) is called a strength
AREA_MAX_SCORE = 6.5  # a metric scoring below this is an area for improvement
SUMMARY_SENTENCES = 3
MIN_SUMMARY_CONTENT_WORDS = 3
_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its me my of on or our so that the their them "
    "there they this to was we were what when which who will with you your um uh like just really very".split())


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _span(moment) -> str:
    return f"{clock(moment.start_s)}-{clock(moment.end_s)}"


def _top_fillers(speech) -> str:
    counts = Counter(f.word.lower() for f in speech.fillers).most_common(2)
    return ", ".join(f'"{word}" ×{n}' for word, n in counts)


def _times(moments, kind: str, limit: int = 3) -> str:
    picked = [m for m in moments if m.kind == kind][:limit]
    return ", ".join(clock(m.start_s) for m in picked)


def describe(metric: str, value: float, signals, moments, strong: bool) -> str:
    """One sentence about one metric, in this video's numbers."""
    s = signals.timed_speech
    if metric == "pace_wpm":
        if strong:
            return f"Comfortable pace: {value:.0f} words per minute of speaking time."
        side = "fast" if value > 165 else "slow"
        return f"Pace is {side} at {value:.0f} words per minute (aim for 130-165)."
    if metric == "filler_rate_per_min":
        if strong:
            return f"Fluent delivery: {plural(len(s.fillers), 'filler word')} in {s.speaking_time_s:.0f} s of speech."
        return (f"{plural(len(s.fillers), 'filler word')} ({value:.1f} per minute; {_top_fillers(s)}), "
                f"for example at {_times(moments, 'filler')}.")
    if metric == "long_pause_rate_per_min":
        longs = [p for p in s.pauses if p.is_long]
        if strong:
            return f"Pauses are brief: {plural(len(longs), 'pause')} of 2 s or more."
        longest = max(longs, key=lambda p: p.duration_s)
        return (f"{plural(len(longs), 'long pause')} ({value:.1f} per minute); the longest is {longest.duration_s:.1f} s at "
                f"{clock(longest.start_s)}.")
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
        return f"{value:.0%} of speaking time is in flat-pitch stretches, e.g. at {_times(moments, 'monotone')}."
    if metric == "loudness_range_db":
        if strong:
            return f"Good vocal dynamics: a {value:.0f} dB loudness range."
        return f"Loudness barely changes ({value:.0f} dB range): stress key words."
    if metric == "eye_contact_ratio":
        looks = [m for m in moments if m.kind == "look_away"]
        if strong:
            return f"Strong eye contact: looking at the camera in {value:.0%} of the frames with a face."
        where = f"; longest look-away at {clock(max(looks, key=lambda m: m.end_s - m.start_s).start_s)}" if looks else ""
        return f"Eye contact in {value:.0%} of the frames with a face ({plural(len(looks), 'look-away')}{where})."
    if metric == "face_visible_ratio":
        if strong:
            return f"Face in frame for {value:.0%} of the video."
        return f"Face visible in only {value:.0%} of the video: keep your face centred in the frame."
    if metric == "smile_ratio":
        if strong:
            return f"Warm expression: smiling in {value:.0%} of the face-visible frames."
        return f"Smiling in {value:.0%} of the face-visible frames: a smile at the start and end helps."
    if metric == "head_motion_deg_per_s":
        if strong:
            return f"Steady, natural head movement ({value:.1f}°/s)."
        return (f"Head moves a lot ({value:.1f}°/s on average)." if value > 8
                else f"Head is very still ({value:.1f}°/s): natural nods help.")
    if metric == "blink_rate_per_min":
        if strong:
            return f"Relaxed blink rate ({value:.0f} per minute)."
        return f"Blink rate is high ({value:.0f} per minute), often a sign of tension."
    raise KeyError(metric)


ADVICE = {
    "pace_wpm": "Record one take aiming for about 150 words per minute: mark a breath after each sentence.",
    "filler_rate_per_min": "Replace each filler with a silent pause: rehearse the opening of each point until "
                           "it starts without 'um'.",
    "long_pause_rate_per_min": "Outline your points as three keywords so the next idea is ready before you "
                               "finish the current one.",
    "stt_confidence": "Slow the ends of sentences and keep the microphone close; re-record in a quieter room.",
    "pitch_sd_semitones": "Pick the one word per sentence that matters most and lift your pitch on it.",
    "monotone_ratio": "Read one paragraph aloud exaggerating ups and downs, then speak the talk with half that range.",
    "loudness_range_db": "Practise stressing key words a little louder and dropping your voice for asides.",
    "eye_contact_ratio": "Put a sticker next to the lens and finish each sentence looking at it.",
    "face_visible_ratio": "Frame yourself from the chest up, lens at eye level, and check the preview first.",
    "smile_ratio": "Open and close with a genuine smile; think of why the topic matters to you.",
    "head_motion_deg_per_s": "Plant your feet or sit back in the chair, and let nods come on key points only.",
    "blink_rate_per_min": "Take two slow breaths before recording; tension shows in the eyes.",
}


def rank_components(categories: dict) -> list[tuple[str, float, float]]:
    """(metric, value, score) for every metric that entered any category, once, best first."""
    seen: dict[str, tuple[float, float]] = {}
    for category in categories.values():
        for c in category.components:
            seen[c["metric"]] = (c["value"], c["score"])
    return sorted(((m, v, s) for m, (v, s) in seen.items()), key=lambda t: -t[2])


def strengths_and_areas(categories: dict, signals, moments) -> tuple[list[str], list[str]]:
    ranked = rank_components(categories)
    strengths = [describe(m, v, signals, moments, True) for m, v, s in ranked if s >= STRENGTH_MIN_SCORE][:3]
    areas = [describe(m, v, signals, moments, False) for m, v, s in reversed(ranked) if s < AREA_MAX_SCORE][:3]
    for reason in missing_evidence(signals):
        areas.append(reason)
    return strengths, areas[:4]


def missing_evidence(signals) -> list[str]:
    """A sentence for each part of the video that gave nothing to measure (too little of it is said elsewhere)."""
    reasons = []
    if signals.timed_speech is None:
        heard = "No audio track" if not signals.has_audio else "No speech was detected in the audio"
        provided = signals.transcript is not None and signals.transcript.source == "provided"
        reasons.append(f"{heard}: pace, fillers and voice could not be measured"
                       + ("; the provided transcript is used for its content only." if provided else "."))
    if signals.face_gap is not None:
        reasons.append("No face was visible: eye contact and expressions could not be measured.")
    return reasons


def recommendation(categories: dict, signals, moments) -> str:
    ranked = rank_components(categories)
    if not ranked:
        missing = missing_evidence(signals)
        return (" ".join(missing) + " Record again with your face in frame and the microphone on.") if missing \
            else "Record a longer take (at least 30 seconds of speech) for a full analysis."
    metric, value, score = ranked[-1]
    if score >= STRENGTH_MIN_SCORE:
        best = ranked[0]
        return (f"All measured areas score {score:.1f}/10 or better; keep your {metric_label(best[0])} "
                f"and try a longer, unscripted take.")
    return f"Focus on one thing next take: {describe(metric, value, signals, moments, False)} {ADVICE[metric]}"


def metric_label(metric: str) -> str:
    from models.interpretation.scoring import load_rubric

    return load_rubric()["metrics"][metric]["label"]


def detailed_feedback(categories: dict, signals, moments) -> str:
    parts = []
    s, v, f = signals.timed_speech, signals.voice, signals.face
    if s is not None:
        text = f"You spoke {plural(s.word_count, 'word')} in {s.speaking_time_s:.0f} s of speaking time"
        if s.pace_wpm is not None:
            text += f" ({s.pace_wpm:.0f} wpm)"
        longs = [p for p in s.pauses if p.is_long]
        text += (f", with {plural(len(s.fillers), 'filler word')} and {plural(len(s.pauses), 'pause')} of 1 s "
                 f"or more ({len(longs)} of them 2 s or longer).")
        parts.append(text)
    if s is not None and v is not None and v.pitch_sd_semitones is not None:
        parts.append(f"Your pitch centred on {v.pitch_median_hz:.0f} Hz and varied by {v.pitch_sd_semitones:.1f} "
                     f"semitones" + (f"; loudness spanned {v.loudness_range_db:.0f} dB." if v.loudness_range_db
                                     is not None else "."))
    if signals.face_gap is None:
        text = f"Your face was visible in {f.face_visible_ratio:.0%} of the frames"
        if f.eye_contact_ratio is not None:
            text += f", you looked at the camera in {f.eye_contact_ratio:.0%} of them"
        if f.smile_ratio is not None:
            text += f" and smiled in {f.smile_ratio:.0%}"
        parts.append(text + ".")
    ranked = rank_components(categories)
    if ranked:
        best, worst = ranked[0], ranked[-1]
        parts.append(f"Strongest: {describe(best[0], best[1], signals, moments, True)}")
        if worst[2] < AREA_MAX_SCORE:
            parts.append(f"To work on: {describe(worst[0], worst[1], signals, moments, False)}")
    parts += missing_evidence(signals)
    return " ".join(parts)


def extractive_summary(transcript, limit: int = SUMMARY_SENTENCES) -> list[tuple[str, float | None]]:
    """The sentences that share the most content words with the rest of the talk, in spoken order."""
    sentences = [(s.text, s.start_s) for s in split_sentences(transcript)]
    if len(sentences) <= limit:
        return sentences
    bags = [Counter(w for w in re.findall(r"[a-z']+", s.lower()) if w not in _STOPWORDS) for s, _ in sentences]
    totals = sum(bags, Counter())
    scores = [sum(min(c, totals[w] - c) for w, c in bag.items()) / (1 + sum(bag.values())) ** 0.5 for bag in bags]
    # Greetings and sign-offs share few words with anything; prefer sentences that carry content.
    candidates = [i for i, bag in enumerate(bags) if sum(bag.values()) >= MIN_SUMMARY_CONTENT_WORDS] or list(
        range(len(sentences)))
    top = sorted(sorted(candidates, key=lambda i: -scores[i])[:limit])
    return [sentences[i] for i in top]


def session_summary(signals, categories: dict, overall: int | None) -> str:
    duration = f"{signals.duration_s:.0f} s video"
    s, timed = signals.speech, signals.timed_speech is not None
    if s is None or not s.word_count:
        what = "no speech was transcribed"
    else:  # a provided transcript that no detected speech placed in time is quoted without times
        quotes = " ".join(f'[{clock(t)}] "{text}"' if timed and t is not None else f'"{text}"'
                          for text, t in extractive_summary(signals.transcript))
        source = " (provided transcript)" if signals.transcript.source == "provided" else ""
        what = f"{s.word_count} words{source}; main points: {quotes}"
    scored = {n: c.score for n, c in categories.items() if c.score is not None}
    how = (f" Overall {overall}/100; " + ", ".join(f"{n} {v}/10" for n, v in scored.items()) + ".") if scored else ""
    return f"In this {duration}, {what}.{how}"
