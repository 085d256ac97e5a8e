"""Feedback sentences from the metric scores of the interpretation model: every sentence cites a number or a time
from this video, a metric is a strength or an area (never both, the thresholds leave a gap between them), and a
time is cited once. Each sentence is a catalog message (models/i18n): English here, said in the user's language
where the answer is built."""

from __future__ import annotations

from softskills.models.i18n.text import SOURCE_LANGUAGE, Clause, Message, Text, both, say, say_plural, sentences, series
from softskills.models.intervals import clock
from softskills.models.measurements import Measurements
from softskills.models.speech.metrics import PACE_UNIT_PLURAL

CATEGORY_NAMES = {
    # Translators: the four score categories, as in "clarity 7.1/10" and "clarity and confidence could not be scored".
    "likeability": say("likeability"),
    # Translators: a score category (see "likeability").
    "authenticity": say("authenticity"),
    # Translators: a score category (see "likeability").
    "clarity": say("clarity"),
    # Translators: a score category (see "likeability").
    "confidence": say("confidence"),
}

SENTENCE_LANGUAGE = SOURCE_LANGUAGE  # the language the sentences are written in here: the catalogs' source


def metric_label(metric: str, params: dict) -> Message:
    """The metric's label in the parameter file (a catalog message: models/i18n/extract.py reads the labels)."""
    return Message(params["metrics"][metric]["label"], {})


def _times(m: Measurements, kind: str, limit: int = 3) -> Text:
    """The start times of the first events of a kind, each clock time once ("0:04, 0:04" reads as a typo)."""
    clocks = list(dict.fromkeys(clock(e.start_s) for e in m.events if e.kind == kind))
    return series(clocks[:limit])


def _counts(pairs) -> Text:
    return series(say('"{word}" ×{count}', word=word, count=n) for word, n in pairs)


# How each metric reads inside a reason sentence.
METRIC_TEXT = {
    "pace_wpm": lambda v: say("pace {value:.0f} wpm", value=v),
    "pace_relative": lambda v: say("pace {value:.2f}× the language's comfortable centre", value=v),
    "filler_rate_per_min": lambda v: say("{value:.1f} fillers/min", value=v),
    "long_pause_rate_per_min": lambda v: say("{value:.1f} long pauses/min", value=v),
    "stt_confidence": lambda v: say("recognition confidence {value:.0%}", value=v),
    "pitch_sd_semitones": lambda v: say("pitch variation {value:.1f} semitones", value=v),
    "monotone_ratio": lambda v: say("{value:.0%} of speech in flat stretches", value=v),
    "loudness_range_db": lambda v: say("loudness range {value:.0f} dB", value=v),
    "hedge_rate_per_100_words": lambda v: say("{value:.1f} hedges per 100 words", value=v),
    "vocabulary_diversity_mattr": lambda v: say("vocabulary variety {value:.2f}", value=v),
    "coherence_cosine": lambda v: say("coherence {value:.2f}", value=v),
    "relevance_cosine": lambda v: say("relevance {value:.2f}", value=v),
    "eye_contact_ratio": lambda v: say("eye contact on {value:.0%} of face-visible frames", value=v),
    "look_away_rate_per_min": lambda v: say("{value:.1f} look-aways/min", value=v),
    "smile_ratio": lambda v: say("smiling on {value:.0%} of frames", value=v),
    "head_motion_deg_per_s": lambda v: say("head motion {value:.1f}°/s", value=v),
    "blink_rate_per_min": lambda v: say("{value:.0f} blinks/min", value=v),
    "off_centre_ratio": lambda v: say("off-centre {value:.0%} of the time", value=v),
    "cut_by_edge_ratio": lambda v: say("face cut by the frame {value:.0%} of the time", value=v),
    "slouch_ratio": lambda v: say("slouching {value:.0%} of the time", value=v),
    "gesture_rate_per_min": lambda v: say("{value:.0f} gestures/min", value=v),
    "fidget_ratio": lambda v: say("fidgeting {value:.0%} of the time", value=v),
}


def metric_text(metric: str, value: float) -> Message:
    return METRIC_TEXT[metric](value)


def describe(metric: str, value: float, m: Measurements, strong: bool) -> Message:
    """One sentence about one metric, in this video's numbers."""
    f = m.facts
    if metric == "pace_wpm":
        if strong:
            return say("Comfortable pace: {value:.0f} words per minute of speaking time.", value=value)
        if value > 165:
            return say("Pace is fast at {value:.0f} words per minute (aim for 130-165).", value=value)
        return say("Pace is slow at {value:.0f} words per minute (aim for 130-165).", value=value)
    if metric == "pace_relative":
        unit, rate, centre = PACE_UNIT_PLURAL[f.pace_unit], f.syllables_per_s, f.comfortable_rate
        if strong:
            return say("Comfortable pace: {rate:.1f} {unit} per second of speaking time.", rate=rate, unit=unit)
        aim = dict(rate=rate, unit=unit, low=0.9 * centre, high=1.1 * centre)
        if value > 1.1:
            return say(
                "Pace is fast at {rate:.1f} {unit} per second (aim for {low:.1f}-{high:.1f} in this language).", **aim
            )
        return say(
            "Pace is slow at {rate:.1f} {unit} per second (aim for {low:.1f}-{high:.1f} in this language).", **aim
        )
    if metric == "filler_rate_per_min":
        n = f.filler_count
        if strong:
            return say_plural(
                "Fluent delivery: {n} filler word in {seconds:.0f} s of speech.",
                "Fluent delivery: {n} filler words in {seconds:.0f} s of speech.",
                n,
                seconds=f.speaking_time_s,
            )
        at, counts = _times(m, "filler"), _counts(f.top_fillers)
        if at:
            return say_plural(
                "{n} filler word ({rate:.1f} per minute; {counts}), for example at {times}.",
                "{n} filler words ({rate:.1f} per minute; {counts}), for example at {times}.",
                n,
                rate=value,
                counts=counts,
                times=at,
            )
        return say_plural(
            "{n} filler word ({rate:.1f} per minute; {counts}).",
            "{n} filler words ({rate:.1f} per minute; {counts}).",
            n,
            rate=value,
            counts=counts,
        )
    if metric == "long_pause_rate_per_min":
        n = f.long_pause_count
        if strong:
            return say_plural(
                "Pauses are brief: {n} pause of 2 s or more.", "Pauses are brief: {n} pauses of 2 s or more.", n
            )
        start_s, duration_s = f.longest_pause
        return say_plural(
            "{n} long pause ({rate:.1f} per minute); the longest is {seconds:.1f} s at {at}.",
            "{n} long pauses ({rate:.1f} per minute); the longest is {seconds:.1f} s at {at}.",
            n,
            rate=value,
            seconds=duration_s,
            at=clock(start_s),
        )
    if metric == "stt_confidence":
        if strong:
            return say("Clear articulation: the recogniser heard words with {value:.0%} mean confidence.", value=value)
        return say(
            "Some words are hard to make out (recognition confidence {value:.0%}); speak up and finish words.",
            value=value,
        )
    if metric == "pitch_sd_semitones":
        if strong:
            return say("Lively voice: pitch varies by {value:.1f} semitones.", value=value)
        return say("Voice is fairly flat: pitch varies by only {value:.1f} semitones (3+ sounds engaged).", value=value)
    if metric == "monotone_ratio":
        if strong:
            return say("Pitch keeps moving: only {value:.0%} of speaking time in flat stretches.", value=value)
        return say(
            "{value:.0%} of speaking time is in flat-pitch stretches, e.g. at {times}.",
            value=value,
            times=_times(m, "monotone"),
        )
    if metric == "loudness_range_db":
        if strong:
            return say("Good vocal dynamics: a {value:.0f} dB loudness range.", value=value)
        if value < 14:
            return say("Loudness barely changes ({value:.0f} dB range): stress key words.", value=value)
        return say(
            "Loudness swings widely ({value:.0f} dB range): keep a steady distance to the microphone.", value=value
        )
    if metric == "hedge_rate_per_100_words":
        n = f.hedge_count
        if strong:
            return say_plural(
                "Assertive wording: {n} hedge in {words} words.",
                "Assertive wording: {n} hedges in {words} words.",
                n,
                words=f.word_count,
            )
        return say_plural(
            "{n} hedge ({rate:.1f} per 100 words; {counts}), e.g. at {times}.",
            "{n} hedges ({rate:.1f} per 100 words; {counts}), e.g. at {times}.",
            n,
            rate=value,
            counts=_counts(f.top_hedges),
            times=_times(m, "hedge"),
        )
    if metric == "vocabulary_diversity_mattr":
        if strong:
            return say("Varied vocabulary (type-token ratio {value:.2f} over 50-word windows).", value=value)
        if f.top_repeated_phrase:
            phrase, n = f.top_repeated_phrase
            return say_plural(
                "Vocabulary repeats itself (type-token ratio {value:.2f} over 50-word windows; "
                '"{phrase}" comes {n} time).',
                "Vocabulary repeats itself (type-token ratio {value:.2f} over 50-word windows; "
                '"{phrase}" comes {n} times).',
                n,
                value=value,
                phrase=phrase,
            )
        return say("Vocabulary repeats itself (type-token ratio {value:.2f} over 50-word windows).", value=value)
    if metric == "coherence_cosine":
        if strong:
            return say("Ideas connect: consecutive sentences stay on topic (coherence {value:.2f}).", value=value)
        return say(
            "Sentences jump between topics (coherence {value:.2f}): link each point to the one before.", value=value
        )
    if metric == "relevance_cosine":
        if strong:
            return say('On topic for "{context}" (relevance {value:.2f}).', context=m.context_phrase, value=value)
        return say('The talk drifts from "{context}" (relevance {value:.2f}).', context=m.context_phrase, value=value)
    if metric == "eye_contact_ratio":
        looks = [e for e in m.events if e.kind == "look_away"]
        if strong:
            return say(
                "Strong eye contact: looking at the camera in {value:.0%} of the frames with a face.", value=value
            )
        if not looks:
            return say("Eye contact in {value:.0%} of the frames with a face (0 look-aways).", value=value)
        longest = clock(max(looks, key=lambda e: e.end_s - e.start_s).start_s)
        return say_plural(
            "Eye contact in {value:.0%} of the frames with a face ({n} look-away; longest look-away at {at}).",
            "Eye contact in {value:.0%} of the frames with a face ({n} look-aways; longest look-away at {at}).",
            len(looks),
            value=value,
            at=longest,
        )
    if metric == "look_away_rate_per_min":
        if strong:
            return say("Steady gaze: {value:.1f} look-aways per minute.", value=value)
        return say(
            "Gaze wanders: {value:.1f} look-aways per minute, e.g. at {times}.",
            value=value,
            times=_times(m, "look_away"),
        )
    if metric == "smile_ratio":
        if strong:
            return say("Warm expression: smiling in {value:.0%} of the face-visible frames.", value=value)
        return say(
            "Smiling in {value:.0%} of the face-visible frames: a smile at the start and end helps.", value=value
        )
    if metric == "head_motion_deg_per_s":
        if strong:
            return say("Natural head movement ({value:.1f}°/s).", value=value)
        if value > 10:
            return say("Head moves a lot ({value:.1f}°/s on average).", value=value)
        return say("Head is very still ({value:.1f}°/s): natural nods help.", value=value)
    if metric == "blink_rate_per_min":
        if strong:
            return say("Relaxed blink rate ({value:.0f} per minute).", value=value)
        if value > 26:
            return say("Blink rate is high ({value:.0f} per minute), often a sign of tension.", value=value)
        return say("Blink rate is low ({value:.0f} per minute): a fixed stare reads as tense.", value=value)
    if metric in ("off_centre_ratio", "cut_by_edge_ratio"):
        if strong:
            return say(
                "Well framed: your face stays centred and in frame ({value:.0%} of the time otherwise).", value=value
            )
        if metric == "off_centre_ratio":
            return say(
                "Your face is off-centre {value:.0%} of the time, e.g. at {times}.",
                value=value,
                times=_times(m, "off_centre"),
            )
        return say(
            "Your face is cut by the frame edge {value:.0%} of the time, e.g. at {times}.",
            value=value,
            times=_times(m, "cut_by_edge"),
        )
    if metric == "slouch_ratio":
        if strong:
            return say("Upright posture: slouching {value:.0%} of the time.", value=value)
        return say(
            "Slouching {value:.0%} of the time (below your own upright height), e.g. at {times}.",
            value=value,
            times=_times(m, "slouching"),
        )
    if metric == "gesture_rate_per_min":
        if strong:
            return say("Expressive hands: {value:.0f} gestures per minute while they are visible.", value=value)
        if value < 15:
            return say(
                "Few gestures ({value:.0f} per minute while your hands are visible): let your hands show the "
                "structure.",
                value=value,
            )
        return say("Hands move constantly ({value:.0f} gestures per minute).", value=value)
    if metric == "fidget_ratio":
        if strong:
            return say("Still and composed: fidgeting {value:.0%} of the time.", value=value)
        return say(
            "Small restless movements {value:.0%} of the time, e.g. at {times}.",
            value=value,
            times=_times(m, "fidgeting"),
        )
    raise KeyError(metric)


ADVICE = {
    "pace_wpm": say("Record one take aiming for about 150 words per minute: mark a breath after each sentence."),
    "pace_relative": say("Record one take at the middle of that range: mark a breath after each sentence."),
    "filler_rate_per_min": say(
        "Replace each filler with a silent pause: rehearse the opening of each point until it starts without 'um'."
    ),
    "long_pause_rate_per_min": say(
        "Outline your points as three keywords so the next idea is ready before you finish the current one."
    ),
    "stt_confidence": say("Slow the ends of sentences and keep the microphone close; re-record in a quieter room."),
    "pitch_sd_semitones": say("Pick the one word per sentence that matters most and lift your pitch on it."),
    "monotone_ratio": say(
        "Read one paragraph aloud exaggerating ups and downs, then speak the talk with half that range."
    ),
    "loudness_range_db": say("Practise stressing key words a little louder and dropping your voice for asides."),
    "hedge_rate_per_100_words": say("State each main point once without 'I think' or 'maybe', then give the evidence."),
    "vocabulary_diversity_mattr": say("Write three alternatives for the phrase you repeat most and use them."),
    "coherence_cosine": say("Open each point with a phrase that links it to the last one ('Because of that, ...')."),
    "relevance_cosine": say("Name the scenario's goal in your first sentence and tie each point back to it."),
    "eye_contact_ratio": say("Put a sticker next to the lens and finish each sentence looking at it."),
    "look_away_rate_per_min": say("Keep notes at lens height so reading them does not pull your eyes away."),
    "smile_ratio": say("Open and close with a genuine smile; think of why the topic matters to you."),
    "head_motion_deg_per_s": say("Plant your feet or sit back in the chair, and let nods come on key points only."),
    "blink_rate_per_min": say("Take two slow breaths before recording; tension shows in the eyes."),
    "off_centre_ratio": say("Put the camera straight in front of you and your eyes on the upper third line."),
    "cut_by_edge_ratio": say("Sit back until your whole head and shoulders are in the preview."),
    "slouch_ratio": say("Sit on the front half of the chair with both feet flat; check your height in the preview."),
    "gesture_rate_per_min": say("Frame yourself to the waist and use one open-hand gesture per main point."),
    "fidget_ratio": say("Rest your hands on the table between gestures and keep your shoulders still."),
}


def rank(categories: dict) -> list[tuple[str, float, float]]:
    """(metric, value, score) for every metric that entered any category, once, best first."""
    seen: dict[str, tuple[float, float]] = {}
    for category in categories.values():
        for c in category.components:
            seen[c.metric] = (c.value, c.score)
    return sorted(((k, v, s) for k, (v, s) in seen.items()), key=lambda t: (-t[2], t[0]))


def strengths(ranked, m: Measurements, params: dict) -> tuple[Message, ...]:
    cfg = params["feedback"]
    return tuple(describe(k, v, m, True) for k, v, s in ranked if s >= cfg["strength_from"])[: cfg["max_strengths"]]


def areas(ranked, m: Measurements, params: dict) -> tuple[Text, ...]:
    cfg = params["feedback"]
    weak = [describe(k, v, m, False) for k, v, s in reversed(ranked) if s < cfg["area_below"]][: cfg["max_areas"]]
    return tuple(weak + missing_evidence(m))


def missing_evidence(m: Measurements) -> list[Text]:
    """A sentence for each part of the video that gave nothing to measure."""
    reasons = []
    if m.speech_gap is not None:
        reasons.append(
            m.speech_gap
            if m.speech_gap.startswith(("Only ", "The words"))
            else say("{gap}: pace, fillers and voice could not be measured.", gap=Clause(m.speech_gap))
        )
    if m.face_gap is not None:
        reasons.append(say("No face was visible: eye contact and expressions could not be measured."))
    return reasons


def recommendation(ranked, m: Measurements, params: dict) -> Text:
    if not ranked:
        missing = missing_evidence(m)
        return (
            sentences([*missing, say("Record again with your face in frame and the microphone on.")])
            if missing
            else say("Record a longer take (at least 30 seconds of speech) for a full analysis.")
        )
    metric, value, score = ranked[-1]
    if score >= params["feedback"]["area_below"]:
        return say(
            "Every measured area scores {score:.1f}/10 or better; keep your {strongest} and try a longer, "
            "unscripted take.",
            score=score,
            strongest=metric_label(ranked[0][0], params),
        )
    return say(
        "Focus on one thing next take: {area} {advice}", area=describe(metric, value, m, False), advice=ADVICE[metric]
    )


def detailed(ranked, m: Measurements, params: dict) -> Text:
    parts: list[Text] = []
    f = m.facts
    if f.word_count is not None:
        pace = m.values.get("pace_wpm")
        fillers = (
            # Translators: {fillers} and {pauses} are the two fragments below ("3 filler words", "5 pauses").
            say_plural("{n} filler word", "{n} filler words", f.filler_count)
            if f.filler_count is not None
            else say("filler words uncounted (no filler list for this language)")
        )  # no lexicon, no count
        counts = dict(
            seconds=f.speaking_time_s,
            long=f.long_pause_count,
            fillers=fillers,
            pauses=say_plural("{n} pause", "{n} pauses", f.pause_count),
        )
        words = say_plural("{n} word", "{n} words", f.word_count)
        if pace is None and f.syllables_per_s is not None:  # words are not the unit (Japanese, Chinese)
            parts.append(
                say(
                    "You spoke {count:.0f} {unit} in {seconds:.0f} s of speaking time ({rate:.1f} per "
                    "second), with {fillers} and {pauses} of 1 s or more ({long} of them 2 s or longer).",
                    count=f.syllables_per_s * f.speaking_time_s,
                    unit=PACE_UNIT_PLURAL[f.pace_unit],
                    rate=f.syllables_per_s,
                    **counts,
                )
            )
        elif pace is not None:
            parts.append(
                say(
                    "You spoke {words} in {seconds:.0f} s of speaking time ({pace:.0f} wpm), with {fillers} "
                    "and {pauses} of 1 s or more ({long} of them 2 s or longer).",
                    words=words,
                    pace=pace,
                    **counts,
                )
            )
        else:
            parts.append(
                say(
                    "You spoke {words} in {seconds:.0f} s of speaking time, with {fillers} and {pauses} of "
                    "1 s or more ({long} of them 2 s or longer).",
                    words=words,
                    **counts,
                )
            )
        if "pitch_sd_semitones" in m.values and f.pitch_median_hz is not None:
            loud = m.values.get("loudness_range_db")
            voice = dict(hz=f.pitch_median_hz, sd=m.values["pitch_sd_semitones"])
            parts.append(
                say(
                    "Your pitch centred on {hz:.0f} Hz and varied by {sd:.1f} semitones; loudness spanned {db:.0f} dB.",
                    db=loud,
                    **voice,
                )
                if loud is not None
                else say("Your pitch centred on {hz:.0f} Hz and varied by {sd:.1f} semitones.", **voice)
            )
    if m.face_gap is None:
        parts.append(
            _face_sentence(f.face_visible_ratio, m.values.get("eye_contact_ratio"), m.values.get("smile_ratio"))
        )
    cfg = params["feedback"]
    if ranked and ranked[0][2] >= cfg["strength_from"]:
        parts.append(say("Strongest: {sentence}", sentence=describe(ranked[0][0], ranked[0][1], m, True)))
    if ranked and ranked[-1][2] < cfg["area_below"]:
        parts.append(say("To work on: {sentence}", sentence=describe(ranked[-1][0], ranked[-1][1], m, False)))
    parts += missing_evidence(m)
    return sentences(parts)


def _face_sentence(visible: float, eye_contact: float | None, smiling: float | None) -> Message:
    if eye_contact is not None and smiling is not None:
        return say(
            "Your face was visible in {visible:.0%} of the frames, you looked at the camera in {eye:.0%} of "
            "them and smiled in {smile:.0%}.",
            visible=visible,
            eye=eye_contact,
            smile=smiling,
        )
    if eye_contact is not None:
        return say(
            "Your face was visible in {visible:.0%} of the frames, you looked at the camera in {eye:.0%} of them.",
            visible=visible,
            eye=eye_contact,
        )
    if smiling is not None:
        return say(
            "Your face was visible in {visible:.0%} of the frames and smiled in {smile:.0%}.",
            visible=visible,
            smile=smiling,
        )
    return say("Your face was visible in {visible:.0%} of the frames.", visible=visible)


def session_summary(m: Measurements, summary, categories: dict, overall: int | None) -> Message:
    if not m.sentences:
        what = say("no speech was transcribed")
    else:  # a provided transcript that no detected speech placed in time is quoted without times
        timed = m.speech_gap is None or m.speech_gap.startswith("Only ")
        quotes = sentences(
            # Translators: a sentence of the talk, quoted as spoken, with the time it starts at.
            say('[{at}] "{text}"', at=clock(s.start_s), text=s.text)
            if timed and s.start_s is not None
            else say('"{text}"', text=s.text)
            for s in summary
        )
        count = m.facts.word_count if m.facts.word_count is not None else sum(len(s.text.split()) for s in m.sentences)
        what = (
            say_plural(
                "{n} word (provided transcript); main points: {quotes}",
                "{n} words (provided transcript); main points: {quotes}",
                count,
                quotes=quotes,
            )
            if m.facts.transcript_source == "provided"
            else say_plural("{n} word; main points: {quotes}", "{n} words; main points: {quotes}", count, quotes=quotes)
        )
    f = m.facts
    if f.speaker_count:
        who = (
            say("everyone together is analysed")
            if f.analysed_speaker is None
            else say(
                "speaker {speaker} is analysed ({share:.0%} of the talk time)",
                speaker=f.analysed_speaker,
                share=f.analysed_talk_share,
            )
        )
        what = say("{count} speakers ({who}); {what}", count=f.speaker_count, who=who, what=what)
    scored = series(
        say("{category} {score:.1f}/10", category=CATEGORY_NAMES[n], score=c.score)
        for n, c in categories.items()
        if c.score is not None
    )
    if not scored.items:
        return say("In this {seconds:.0f} s video, {what}.", seconds=m.duration_s, what=what)
    if overall is None:
        return say("In this {seconds:.0f} s video, {what}. {scores}.", seconds=m.duration_s, what=what, scores=scored)
    return say(
        "In this {seconds:.0f} s video, {what}. Overall {overall}/100; {scores}.",
        seconds=m.duration_s,
        what=what,
        overall=overall,
        scores=scored,
    )


# Progress against the subject's own baseline (models/progress.py). Each sentence is a plain function of its numbers.

PROGRESS_TEXT = {
    "filler_rate_per_min": lambda v: say("{value:.1f} per minute", value=v),
    "pace_wpm": lambda v: say("{value:.0f} wpm", value=v),
    "pace_relative": lambda v: say("{value:.2f}× the language's comfortable pace", value=v),
    "long_pause_rate_per_min": lambda v: say("{value:.1f} per minute", value=v),
    "pitch_sd_semitones": lambda v: say("{value:.1f} semitones", value=v),
    "eye_contact_ratio": lambda v: say("{value:.0%} of the frames", value=v),
    "hedge_rate_per_100_words": lambda v: say("{value:.1f} per 100 words", value=v),
    "overall": lambda v: say("{value:.0f}/100", value=v),
}


def progress_number(name: str, value: float) -> Text:
    """A headline's value as progress sentences cite it (category scores out of 10)."""
    return PROGRESS_TEXT[name](value) if name in PROGRESS_TEXT else say("{value:.1f}/10", value=value)


def progress_label(name: str, params: dict) -> Text:
    """A headline's name as progress sentences cite it: the metric's label, or the score's."""
    if name == "overall":
        return say("overall score")
    if name in CATEGORY_NAMES:
        # Translators: {category} is a score category ("clarity score").
        return say("{category} score", category=CATEGORY_NAMES[name])
    return metric_label(name, params)


def progress_improved(label: Text, value: Text, baseline: Text, sessions: int) -> Text:
    return say_plural(
        "Better than your usual, beyond your take-to-take variation: your {label}, {value} against "
        "{baseline} (the median of {n} earlier session).",
        "Better than your usual, beyond your take-to-take variation: your {label}, {value} against "
        "{baseline} (the median of {n} earlier sessions).",
        sessions,
        label=label,
        value=value,
        baseline=baseline,
    )


def progress_worse(label: Text, value: Text, baseline: Text, sessions: int) -> Text:
    return say_plural(
        "Worse than your usual, beyond your take-to-take variation: your {label}, {value} against "
        "{baseline} (the median of {n} earlier session).",
        "Worse than your usual, beyond your take-to-take variation: your {label}, {value} against "
        "{baseline} (the median of {n} earlier sessions).",
        sessions,
        label=label,
        value=value,
        baseline=baseline,
    )


def progress_usual(labels: list[Text]) -> Text:
    return say("Within your usual take-to-take variation: your {labels}.", labels=both(labels))


def progress_too_few(earlier: int, needed: int) -> Text:
    return say_plural(
        "Progress against your own baseline starts after {total} sessions of this subject: {n} more session to go.",
        "Progress against your own baseline starts after {total} sessions of this subject: {n} more sessions to go.",
        needed,
        total=earlier + needed,
    )


def progress_focus(label: Text, value: Text, baseline: Text, sessions: int, advice: Text) -> Text:
    return say_plural(
        "Focus on one thing next take, where you are worse than your own usual: your {label}, {value} "
        "against {baseline} (the median of {n} earlier session; beyond your take-to-take variation). "
        "{advice}",
        "Focus on one thing next take, where you are worse than your own usual: your {label}, {value} "
        "against {baseline} (the median of {n} earlier sessions; beyond your take-to-take variation). "
        "{advice}",
        sessions,
        label=label,
        value=value,
        baseline=baseline,
        advice=advice,
    )


def progress_needs_sessions(need: int, have: int) -> Text:
    return say_plural(
        "Progress is judged against at least {need} earlier sessions of the subject; it has {have}, so "
        "{n} more is needed.",
        "Progress is judged against at least {need} earlier sessions of the subject; it has {have}, so "
        "{n} more are needed.",
        need - have,
        need=need,
        have=have,
    )


def headline_too_few(label: Text, have: int, need: int) -> Text:
    return say_plural(
        "{n} earlier session has a value for {label}; progress needs {need}.",
        "{n} earlier sessions have a value for {label}; progress needs {need}.",
        have,
        label=label,
        need=need,
    )


def headline_not_measured(label: Text) -> Text:
    return say("No {label} in this session.", label=label)


def progress_sentences(progress) -> tuple[Text, ...]:
    """What changed beyond the subject's usual variation, then what did not (or how many sessions are still
    needed)."""
    if progress.sessions_needed:
        return (progress_too_few(progress.earlier_sessions, progress.sessions_needed),)
    out = []
    for h in progress.headlines:
        if h.verdict in ("improved", "worse"):
            said = progress_improved if h.verdict == "improved" else progress_worse
            out.append(said(h.label, progress_number(h.name, h.value), progress_number(h.name, h.baseline), h.sessions))
    usual = [h.label for h in progress.headlines if h.verdict == "usual"]
    return tuple(out + ([progress_usual(usual)] if usual else []))


def progress_recommendation(progress) -> Text | None:
    """The measured metric most worse than the subject's own baseline (relative to their usual variation), with its
    advice; None when none is."""
    worse = [h for h in progress.headlines if h.verdict == "worse" and h.name in ADVICE]
    if not worse:
        return None
    h = min(worse, key=lambda h: h.improvement / h.threshold)
    return progress_focus(
        h.label, progress_number(h.name, h.value), progress_number(h.name, h.baseline), h.sessions, ADVICE[h.name]
    )
