"""The one interpretation model: measurements become metric scores, category scores, the engine's levels, content
signals, window scores, key moments and feedback, all from one versioned parameter file
(data/interpretation_v2.json; sources in data/INTERPRETATION.md) and the same 0-10 score per metric.

Nothing is scored without evidence: a withheld metric enters no score, a category whose evidence covers less than
`min_coverage` of its weight is null with the reason, and there is no overall score without speech.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from softskills.models.i18n.text import N_, Clause, Message, Text, both, clauses, say, say_plural, sentences, series
from softskills.models.interpretation import feedback
from softskills.models.interpretation.sentences import Sentence
from softskills.models.measurements import SPEECH_METRICS, Event, Measurements
from softskills.models.progress import (
    Baseline,
    Calibration,
    Personal,
    Session,
    SessionRecord,
    assess,
    personal_baseline,
    scored_metrics,
)

PARAMS_PATH = Path(__file__).parent / "data" / "interpretation_v2.json"
CATEGORIES = ("likeability", "authenticity", "clarity", "confidence")
MAX_LEVEL_MOMENTS = 5
INTERPRETATION_NAMES = {
    # Translators: the engine's five interpretations, as in "No engagement interpretation: ...".
    "engagement": say("engagement"),
    # Translators: an interpretation (see "engagement").
    "composure": say("composure"),
    # Translators: an interpretation (see "engagement").
    "expressiveness": say("expressiveness"),
    # Translators: an interpretation (see "engagement").
    "vocal_energy": say("vocal energy"),
    "eye_contact": say("eye contact"),
}
# Each level of each interpretation is a sentence of its own: the level's word agrees with the interpretation's
# noun in most languages ("Compromiso alto", "Energía vocal alta").
LEVEL_SENTENCES = {
    "engagement": {
        "low": N_("Low engagement: {facts}."),
        "moderate": N_("Moderate engagement: {facts}."),
        "high": N_("High engagement: {facts}."),
    },
    "composure": {
        "low": N_("Low composure: {facts}."),
        "moderate": N_("Moderate composure: {facts}."),
        "high": N_("High composure: {facts}."),
    },
    "expressiveness": {
        "low": N_("Low expressiveness: {facts}."),
        "moderate": N_("Moderate expressiveness: {facts}."),
        "high": N_("High expressiveness: {facts}."),
    },
    "vocal_energy": {
        "low": N_("Low vocal energy: {facts}."),
        "moderate": N_("Moderate vocal energy: {facts}."),
        "high": N_("High vocal energy: {facts}."),
    },
    "eye_contact": {
        "low": N_("Low eye contact: {facts}."),
        "moderate": N_("Moderate eye contact: {facts}."),
        "high": N_("High eye contact: {facts}."),
    },
}
Embed = Callable[[list[str]], np.ndarray]


@lru_cache(maxsize=4)
def load_params(path: str | Path = PARAMS_PATH) -> dict:
    return json.loads(Path(path).read_text())


@dataclass(frozen=True)
class Component:
    metric: str
    value: float
    score: float  # 0..10
    weight: float


@dataclass(frozen=True)
class CategoryScore:
    score: float | None  # 0..10
    reason: Text | None  # why it is null, when it is
    coverage: float  # share of the category's weight that had evidence
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Level:
    """One of the engine's interpretations (engagement, composure, ...): the same metric scores, other weights."""

    level: str | None  # low | moderate | high
    score: float | None  # 0..1
    reason: Text
    evidence: dict[str, float]
    moments: tuple[Event, ...]


@dataclass(frozen=True)
class Relevance:
    score: float | None  # 0..1
    cosine: float | None
    level: str | None
    reason: Text
    evidence: tuple[tuple[Sentence, float], ...]  # the most relevant sentences and their cosine


@dataclass(frozen=True)
class Coherence:
    score: float | None  # mean cosine of consecutive sentences
    reason: Text
    weakest: tuple[Sentence, Sentence, float] | None


@dataclass(frozen=True)
class WindowScore:
    categories: dict[str, float | None]
    overall: int | None


@dataclass(frozen=True)
class KeyMoment:
    kind: str
    start_s: float
    end_s: float
    label: Text
    tone: str  # keep | improve
    why: Text
    evidence: dict


@dataclass(frozen=True)
class Interpretation:
    params_version: str
    observable_only: bool
    overall_score: int | None
    overall_reason: Text | None
    categories: dict[str, CategoryScore]
    levels: dict[str, Level]
    relevance: Relevance
    coherence: Coherence
    summary: tuple[Sentence, ...]
    windows: tuple[WindowScore, ...]
    key_moments: tuple[KeyMoment, ...]
    strengths: tuple[Text, ...]
    areas_for_improvement: tuple[Text, ...]
    detailed_feedback: Text
    recommendation: Text
    session_summary: Text
    personal: Personal | None = None  # with a subject: its record to store, its progress, its calibration


def metric_score(curve: list, value: float | None) -> float | None:
    """A value along a metric's piecewise-linear 0..10 curve (flat beyond its ends)."""
    if value is None or not math.isfinite(value):
        return None
    points = np.asarray(curve, dtype=float)
    return float(np.interp(value, points[:, 0], points[:, 1]))


def interpret(
    m: Measurements,
    embed: Embed | None = None,
    params: dict | None = None,
    earlier: Sequence[SessionRecord] | None = None,
) -> Interpretation:
    """`earlier`: the subject's stored sessions when the request names a subject (None: stateless)."""
    params = for_language(params or load_params(), m.spoken_language)
    values, withheld = dict(m.values), dict(m.withheld)
    relevance, coherence, summary = _content(m, embed, params, values, withheld)
    scores = {
        name: metric_score(params["metrics"][name]["curve"], value)
        for name, value in values.items()
        if name in params["metrics"]
    }
    calibration = calibrate(values, scores, earlier or (), params)
    scores.update({c.metric: c.score for c in calibration})
    categories = score_categories(values, scores, withheld, params, m.observable_only)
    overall, overall_reason = _overall(categories, m.speech_gap, params)
    per_window = window_params(params)
    windows = tuple(_window_score(w.values, per_window, m.observable_only) for w in m.windows)
    ranked = feedback.rank(categories)
    key_moments = tuple(_key_moments(m, windows))
    levels = {
        name: _level(name, spec, values, scores, withheld, m.events, params)
        for name, spec in params["interpretations"].items()
    }
    result = Interpretation(
        params_version=str(params["version"]),
        observable_only=m.observable_only,
        overall_score=overall,
        overall_reason=overall_reason,
        categories=categories,
        levels=levels,
        relevance=relevance,
        coherence=coherence,
        summary=summary,
        windows=windows,
        key_moments=key_moments,
        strengths=feedback.strengths(ranked, m, params),
        areas_for_improvement=feedback.areas(ranked, m, params),
        detailed_feedback=feedback.detailed(ranked, m, params),
        recommendation=feedback.recommendation(ranked, m, params),
        session_summary=feedback.session_summary(m, summary, categories, overall),
    )
    return result if earlier is None else with_progress(result, values, calibration, earlier, params)


def score_categories(
    values: dict[str, float], scores: dict[str, float], withheld: dict[str, str], params: dict, observable_only: bool
) -> dict[str, CategoryScore]:
    out = {}
    for name in CATEGORIES:
        spec = params["categories"][name]
        if observable_only and spec["inferred"]:
            out[name] = CategoryScore(
                None,
                say("Not computed in observable-only mode: it infers how an audience would judge the person."),
                0.0,
                (),
            )
            continue
        components = tuple(
            Component(metric, values[metric], scores[metric], weight)
            for metric, weight in spec["weights"].items()
            if scores.get(metric) is not None
        )
        total = sum(spec["weights"].values())
        coverage = sum(c.weight for c in components) / total if total else 0.0
        if coverage < params["min_coverage"] - 1e-9:
            missing = _missing(params, withheld, [k for k in spec["weights"] if scores.get(k) is None])
            out[name] = CategoryScore(
                None, say("Not enough evidence: {missing}.", missing=missing), coverage, components
            )
            continue
        mean = sum(c.score * c.weight for c in components) / sum(c.weight for c in components)
        out[name] = CategoryScore(mean, None, coverage, components)
    return out


def _missing(params: dict, withheld: dict[str, str], metrics: list[str]) -> Text:
    """ "no pace (why); no fillers (why)": the metrics a score lacks, each with the reason it was not measured."""
    return clauses(
        # Translators: one item of the list of what a score lacks: a metric's label and why it was not measured.
        say(
            "no {metric} ({reason})",
            metric=feedback.metric_label(k, params),
            reason=Clause(withheld.get(k, say("not measured"))),
        )
        for k in metrics
    )


def _overall(
    categories: dict[str, CategoryScore], speech_gap: str | None, params: dict
) -> tuple[int | None, Text | None]:
    """0..100 from the scored categories; null without speech (a communication score needs the talk) and whenever
    none of the categories in `requires_one_of` could be scored."""
    spec = params["overall"]
    if spec["requires_evidence"] == "speech" and speech_gap is not None:
        return None, say("No overall score without scored speech: {gap}", gap=speech_gap)
    if all(categories[name].score is None for name in spec["requires_one_of"]):
        return None, say(
            "No overall score: {categories} could not be scored.",
            categories=both(feedback.CATEGORY_NAMES[name] for name in spec["requires_one_of"]),
        )
    scored = [(c.score, spec["weights"][name]) for name, c in categories.items() if c.score is not None]
    return int(round(10 * sum(s * w for s, w in scored) / sum(w for _, w in scored))), None


def window_params(params: dict) -> dict:
    """The parameters a time window is scored with: each category keeps the weights of its windowable metrics
    (those with a `window` entry), so its coverage is over the evidence a window can have. Hedges per 100 words,
    blink rate, vocabulary, coherence or body language have no value in a few seconds; counted in the weight, they
    kept window confidence and authenticity below `min_coverage` in every window."""
    windowable = {name for name, spec in params["metrics"].items() if "window" in spec}
    categories = {
        name: {**spec, "weights": {k: w for k, w in spec["weights"].items() if k in windowable}}
        for name, spec in params["categories"].items()
    }
    return {**params, "categories": categories}


def _window_score(window_values: dict[str, float | None], params: dict, observable_only: bool) -> WindowScore:
    """A window is scored like the whole video from its windowable metrics (`params` from window_params), each
    through its window curve (counts, not rates: one filler in 5 s is not 12 a minute)."""
    values, scores = {}, {}
    for name, spec in params["metrics"].items():
        window = spec.get("window")
        value = window_values.get(window["metric"]) if window else None
        if value is not None:
            values[name], scores[name] = value, metric_score(window["curve"], value)
    categories = score_categories(values, scores, {}, params, observable_only)
    has_speech = any(window_values.get(pace) is not None for pace in ("pace_wpm", "pace_relative"))
    overall, _ = _overall(categories, None if has_speech else "no speech in the window", params)
    return WindowScore({name: c.score for name, c in categories.items()}, overall)


def level_name(score_0_10: float, params: dict) -> str:
    levels = params["levels"]
    return "low" if score_0_10 < levels["low_below"] else "high" if score_0_10 >= levels["high_from"] else "moderate"


def _level(
    name: str, spec: dict, values: dict, scores: dict, withheld: dict, events: tuple[Event, ...], params: dict
) -> Level:
    weights = spec["weights"]
    used = {k: w for k, w in weights.items() if scores.get(k) is not None}
    evidence = {k: values[k] for k in used}
    coverage = sum(used.values()) / sum(weights.values())
    if coverage < params["min_coverage"] - 1e-9:
        missing = _missing(params, withheld, [k for k in weights if k not in used])
        return Level(
            None,
            None,
            say(
                "No {interpretation} interpretation: {missing}.",
                interpretation=INTERPRETATION_NAMES[name],
                missing=missing,
            ),
            evidence,
            (),
        )
    score = sum(scores[k] * w for k, w in used.items()) / sum(used.values())
    level = level_name(score, params)
    facts = series(feedback.metric_text(k, values[k]) for k in used)
    moments = tuple(e for e in events if e.kind in spec["moments"])[:MAX_LEVEL_MOMENTS]
    return Level(level, score / 10, Message(LEVEL_SENTENCES[name][level], {"facts": facts}), evidence, moments)


def _content(m: Measurements, embed: Embed | None, params: dict, values: dict, withheld: dict):
    """Relevance to the context phrase, coherence between consecutive sentences and the extractive summary, from
    the sentence embeddings; the two cosines join the metrics the categories score."""
    cfg = params["content"]
    sentences = list(m.sentences)
    if not sentences or embed is None or m.spoken_language != cfg["sentence_model_language"]:
        reason = (
            say("No transcript text.")
            if not sentences
            else say("The sentence model was not available.")
            if embed is None
            else say(
                "Relevance and coherence are not measured in '{language}': the sentence "
                "model (all-MiniLM-L6-v2) is English-only, and no multilingual one is "
                "calibrated to these scores.",
                language=m.spoken_language,
            )
        )
        withheld.update(coherence_cosine=reason, relevance_cosine=reason)
        return Relevance(None, None, None, reason, ()), Coherence(None, reason, None), tuple(sentences[:1])
    vectors = embed([s.text for s in sentences] + ([m.context_phrase] if m.context_phrase else []))
    vectors, context = (vectors[:-1], vectors[-1]) if m.context_phrase else (vectors, None)
    relevance = _relevance(sentences, vectors, context, m.context_phrase, cfg, params)
    coherence = _coherence(sentences, vectors, cfg)
    for name, signal in (("relevance_cosine", relevance.cosine), ("coherence_cosine", coherence.score)):
        if signal is None:
            withheld[name] = (relevance if name == "relevance_cosine" else coherence).reason
        else:
            values[name] = signal
    return relevance, coherence, tuple(sentences[i] for i in summary_indices(vectors, cfg))


def _relevance(sentences, vectors, context, context_phrase, cfg, params) -> Relevance:
    if context is None:
        return Relevance(None, None, None, say("No context phrase was given."), ())
    talk = vectors.mean(0)
    cosine = float(talk @ context / max(float(np.linalg.norm(talk)), 1e-9))
    score = metric_score(params["metrics"]["relevance_cosine"]["curve"], cosine)
    per_sentence = vectors @ context
    top = np.argsort(-per_sentence)[: cfg["relevance_evidence_sentences"]]
    return Relevance(
        score / 10,
        cosine,
        level_name(score, params),
        say('Talk-to-context cosine similarity {cosine:.2f} for "{context}".', cosine=cosine, context=context_phrase),
        tuple((sentences[i], float(per_sentence[i])) for i in top),
    )


def _coherence(sentences, vectors, cfg) -> Coherence:
    if len(sentences) < cfg["min_sentences_for_coherence"]:
        return Coherence(
            None,
            say_plural(
                "Only {n} sentence; coherence is measured over at least {least}.",
                "Only {n} sentences; coherence is measured over at least {least}.",
                len(sentences),
                least=cfg["min_sentences_for_coherence"],
            ),
            None,
        )
    steps = np.sum(vectors[:-1] * vectors[1:], axis=1)
    weakest = int(np.argmin(steps))
    mean = float(steps.mean())
    return Coherence(
        mean,
        say_plural(
            "Mean cosine similarity {mean:.2f} over {n} consecutive sentence pair.",
            "Mean cosine similarity {mean:.2f} over {n} consecutive sentence pairs.",
            len(steps),
            mean=mean,
        ),
        (sentences[weakest], sentences[weakest + 1], float(steps[weakest])),
    )


def summary_indices(vectors: np.ndarray, cfg: dict) -> list[int]:
    """Most central sentences with a redundancy penalty (MMR, Carbonell & Goldstein 1998), in talk order.
    Centrality is each sentence's mean cosine to the others, from the sum of the vectors: O(n) memory."""
    n = len(vectors)
    k = min(cfg["summary_max_sentences"], max(1, math.ceil(n / cfg["summary_sentences_per_pick"])))
    centrality = (vectors @ vectors.sum(0) - np.einsum("ij,ij->i", vectors, vectors)) / max(n - 1, 1)
    chosen: list[int] = []
    redundancy = np.full(n, -np.inf)
    while len(chosen) < k:
        gain = cfg["mmr_lambda"] * centrality - (1 - cfg["mmr_lambda"]) * (redundancy if chosen else 0.0)
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
        redundancy = np.maximum(redundancy, vectors @ vectors[chosen[-1]])
    return sorted(chosen)


def _key_moments(m: Measurements, windows: tuple[WindowScore, ...], limit: int = 5):
    """The 3-5 moments most worth re-watching: the worst lapses and the best stretch, in time order."""
    candidates: list[tuple[float, KeyMoment]] = []

    def longest(kind: str) -> Event | None:
        of_kind = [e for e in m.events if e.kind == kind]
        return max(of_kind, key=lambda e: e.end_s - e.start_s) if of_kind else None

    def from_event(e: Event, tone: str, why: Text) -> KeyMoment:
        return KeyMoment(e.kind, e.start_s, e.end_s, e.label, tone, why, e.evidence)

    for kind, why, weight in (
        ("long_pause", N_("Longest pause: the thread is lost here. {moment}."), 1.0),
        ("look_away", N_("Longest look-away from the camera. {moment}."), 0.8),
        ("monotone", N_("Longest stretch of flat pitch. {moment}."), 0.6),
    ):
        e = longest(kind)
        if e is not None:
            candidates.append(
                (weight * (e.end_s - e.start_s), from_event(e, "improve", Message(why, {"moment": e.label})))
            )
    rows = list(zip(m.windows, windows))
    fillers = [(w, s) for w, s in rows if w.values.get("filler_count")]
    if fillers:
        w, s = max(fillers, key=lambda ws: ws[0].values["filler_count"])
        count = w.values["filler_count"]
        if count >= 2:
            why = say_plural("{n} filler word in this window.", "{n} filler words in this window.", int(count))
            candidates.append((count, _window_moment(w, s, "filler_cluster", "improve", Clause(why), why)))
    spikes = [e for e in m.events if e.kind == "pace_spike"]
    if spikes:
        fastest = max(spikes, key=lambda e: e.evidence["window_pace_relative"])
        candidates.append(
            (1.5, from_event(fastest, "improve", say("Fastest stretch: {moment}.", moment=fastest.label)))
        )
    scored = [(w, s) for w, s in rows if s.overall is not None]
    if len(scored) >= 2:
        best = max(scored, key=lambda ws: ws[1].overall)
        worst = min(scored, key=lambda ws: ws[1].overall)
        label = say(
            "Best-scoring {seconds:.0f} s (overall {overall})",
            seconds=best[0].end_s - best[0].start_s,
            overall=best[1].overall,
        )
        candidates.append(
            (5.0, _window_moment(*best, "best_window", "keep", label, say("{moment}: do more of this.", moment=label)))
        )
        if worst[1].overall < best[1].overall:
            why = say("Lowest-scoring window (overall {overall}).", overall=worst[1].overall)
            candidates.append((4.0, _window_moment(*worst, "weakest_window", "improve", Clause(why), why)))
    smile = longest("smile")
    if smile is not None:
        candidates.append((1.0, from_event(smile, "keep", say("Warmest moment: {moment}.", moment=smile.label))))
    chosen = [c for _, c in sorted(candidates, key=lambda c: -c[0])[:limit]]
    return sorted(chosen, key=lambda c: c.start_s)


def _window_moment(window, score: WindowScore, kind: str, tone: str, label: Text, why: Text) -> KeyMoment:
    evidence = {k: window.values.get(k) for k in ("pace_wpm", "filler_count", "eye_contact_ratio")}
    return KeyMoment(kind, window.start_s, window.end_s, label, tone, why, {**evidence, "overall_score": score.overall})


def for_language(params: dict, language: str) -> dict:
    """The parameters as they apply to speech in `language`: English is judged by the metrics as written; any other
    language with each metric of `replaced_outside_english` swapped for its replacement (pace_wpm for pace_relative:
    the same curve over the language's own comfortable pace, so Spanish is not judged by English norms), with the
    same weight in every category and interpretation."""
    if language == "en":
        return params
    swap = params["replaced_outside_english"]

    def swapped(groups: dict) -> dict:
        return {
            name: {**spec, "weights": {swap.get(k, k): w for k, w in spec["weights"].items()}}
            for name, spec in groups.items()
        }

    return {
        **params,
        "categories": swapped(params["categories"]),
        "interpretations": swapped(params["interpretations"]),
    }


# Personal baseline: a subject's earlier sessions (models/progress.py; INTERPRETATION.md, Personal baseline).


def calibrate(
    values: dict[str, float], scores: dict[str, float], earlier: Sequence[SessionRecord], params: dict
) -> tuple[Calibration, ...]:
    """Metrics whose normal is personal (a `personal_curve`), judged against the subject's own distribution once
    it has `calibration.min_sessions` of them."""
    weighed = scored_metrics(params)
    own = {
        metric: personal_baseline(metric, earlier, params)
        for metric, spec in params["personal"]["metrics"].items()
        if "personal_curve" in spec and metric in weighed
    }
    return personal_scores(values, scores, {k: v for k, v in own.items() if v is not None}, params)


def personal_scores(
    values: dict[str, float], scores: dict[str, float], own: dict[str, Baseline], params: dict
) -> tuple[Calibration, ...]:
    """The personal curve at z = (value − the subject's median) / their usual variation, blended with the
    population score by `calibration.weight`, for each measured metric with a personal baseline in `own`."""
    cfg = params["personal"]
    weight = cfg["calibration"]["weight"]
    out = []
    for metric, base in own.items():
        if scores.get(metric) is None:
            continue
        z = (values[metric] - base.centre) / base.spread
        personal = metric_score(cfg["metrics"][metric]["personal_curve"], z)
        out.append(
            Calibration(
                metric,
                values[metric],
                scores[metric],
                base,
                z,
                personal,
                (1 - weight) * scores[metric] + weight * personal,
            )
        )
    return tuple(out)


def session_scores(categories: dict[str, CategoryScore], overall: int | None) -> dict[str, float]:
    scores = {name: c.score for name, c in categories.items() if c.score is not None}
    return scores if overall is None else {**scores, "overall": float(overall)}


def rescored(
    session: SessionRecord, calibration: tuple[Calibration, ...], params: dict, observable_only: bool
) -> SessionRecord:
    """An earlier session's scores as this session's rules give them (the parameters, this session's personal
    calibration, observable-only), from its stored metrics: a rules change is then never read as progress."""
    values = dict(session.metrics)
    scores = {
        name: metric_score(params["metrics"][name]["curve"], value)
        for name, value in values.items()
        if name in params["metrics"]
    }
    own = {c.metric: c.baseline for c in calibration}
    scores.update({c.metric: c.score for c in personal_scores(values, scores, own, params)})
    categories = score_categories(values, scores, {}, params, observable_only)
    has_speech = any(name in values for name in SPEECH_METRICS)
    overall, _ = _overall(categories, None if has_speech else "no speech", params)
    return replace(session, scores=session_scores(categories, overall))


def with_progress(
    result: Interpretation,
    values: dict[str, float],
    calibration: tuple[Calibration, ...],
    earlier: Sequence[SessionRecord],
    params: dict,
) -> Interpretation:
    """The interpretation with the subject's progress: what is worse than the person's own baseline comes first in
    the recommendation, and the detailed feedback says what changed beyond their usual variation. The session to
    store holds every measured metric (the content cosines included) and the scores as answered."""
    session = Session(metrics=dict(values), scores=session_scores(result.categories, result.overall_score))
    progress = assess(session, [rescored(s, calibration, params, result.observable_only) for s in earlier], params)
    progress = replace(progress, feedback=feedback.progress_sentences(progress))
    return replace(
        result,
        personal=Personal(session, progress, calibration),
        recommendation=feedback.progress_recommendation(progress) or result.recommendation,
        detailed_feedback=sentences((result.detailed_feedback, *progress.feedback)),
    )
