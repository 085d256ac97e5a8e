"""A subject's progress against their own baseline and the personal calibration (models/progress.py and the
interpretation's `earlier` sessions): worked values, properties of the rule on constructed series, and the share of
unchanged sessions it calls changed, measured on simulated speakers."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softskills.models.i18n.catalogs import feedback_languages, translator
from softskills.models.interpretation.model import interpret, load_params
from softskills.models.measurements import Measurements
from softskills.models.progress import (
    IMPROVED,
    MAD_TO_SD,
    USUAL,
    WORSE,
    Session,
    SessionRecord,
    assess,
    baseline,
    best_band,
    improvement,
    robust_spread,
    scored_metrics,
    verdict,
)
from tests.test_interpretation import GOOD, measured

PARAMS = load_params()
PERSONAL = PARAMS["personal"]
HEADLINES = [
    name
    for name, spec in PERSONAL["metrics"].items()  # as English speech is scored (pace in wpm)
    if "better" in spec and (name in scored_metrics(PARAMS) or name not in PARAMS["metrics"])
]
METRICS = [name for name in HEADLINES if name in PARAMS["metrics"]]
SCORES = [name for name in HEADLINES if name not in PARAMS["metrics"]]
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
FLIP = {IMPROVED: WORSE, WORSE: IMPROVED, USUAL: USUAL}
USUAL_VALUES = {
    "filler_rate_per_min": 4.0,
    "pace_wpm": 150.0,
    "long_pause_rate_per_min": 1.0,
    "pitch_sd_semitones": 3.0,
    "eye_contact_ratio": 0.7,
    "hedge_rate_per_100_words": 2.0,
    "clarity": 7.0,
    "confidence": 7.0,
    "likeability": 7.0,
    "authenticity": 7.0,
    "overall": 70.0,
}


def floor(name: str) -> float:
    return PERSONAL["metrics"][name]["floor"]


def records(rows: list[dict[str, float]]) -> list[SessionRecord]:
    """Sessions a day apart, in order; metrics and scores split as the interpretation stores them."""
    return [
        SessionRecord(
            metrics={k: v for k, v in row.items() if k in PARAMS["metrics"]},
            scores={k: v for k, v in row.items() if k not in PARAMS["metrics"]},
            at=START + timedelta(days=i),
        )
        for i, row in enumerate(rows)
    ]


def session(row: dict[str, float]) -> Session:
    record = records([row])[0]
    return Session(metrics=record.metrics, scores=record.scores)


def by_name(progress) -> dict:
    return {h.name: h for h in progress.headlines}


def stored(result, at: datetime) -> SessionRecord:
    s = result.personal.session
    return SessionRecord(metrics=s.metrics, scores=s.scores, at=at)


# Worked values


def test_the_baseline_is_the_median_and_the_spread_the_robust_sd_of_successive_differences():
    base = baseline([4.0, 6.0, 5.0, 8.0, 6.0], floor=0.1, centre_sessions=5, spread_sessions=10)
    # differences 2, -1, 3, -2: median 0.5, absolute deviations 1.5, 1.5, 2.5, 2.5, their median 2
    assert base.centre == 6.0 and base.sessions == 5
    assert base.spread == pytest.approx(MAD_TO_SD * 2.0 / math.sqrt(2))
    recent = baseline([100.0, 100.0, 4.0, 6.0, 5.0, 8.0, 6.0], floor=0.1, centre_sessions=5, spread_sessions=10)
    assert recent.centre == 6.0  # only the latest five


def test_a_steady_trend_is_not_take_to_take_variation():
    assert robust_spread([10.0, 8.5, 7.0, 5.5, 4.0]) == 0.0
    base = baseline([10.0, 8.5, 7.0, 5.5, 4.0], floor=1.0, centre_sessions=5, spread_sessions=10)
    assert base.spread == 1.0  # the floor: the steady drop is the change to detect, not noise
    assert verdict(improvement(2.5, base.centre, "lower"), 2.5 * base.spread) == IMPROVED


def test_identical_takes_do_not_make_a_small_change_significant():
    base = baseline([5.0, 5.0, 5.0], floor=1.0, centre_sessions=5, spread_sessions=10)
    assert base.spread == 1.0
    assert verdict(improvement(6.0, base.centre, "lower"), 2.5 * base.spread) == USUAL
    assert verdict(improvement(7.6, base.centre, "lower"), 2.5 * base.spread) == WORSE


def test_pace_is_better_closer_to_the_comfortable_band_of_its_curve():
    band = best_band(PARAMS["metrics"]["pace_wpm"]["curve"])
    assert band == (135, 165)
    assert best_band(PARAMS["metrics"]["pitch_sd_semitones"]["curve"]) == (6, 6)
    slow = baseline([118.0, 120.0, 122.0], floor=8.0, centre_sessions=5, spread_sessions=10)
    assert improvement(150.0, slow.centre, "band", band) == 15.0  # 120 was 15 wpm below the band, 150 is in it
    assert verdict(improvement(150.0, slow.centre, "band", band), 12.0) == IMPROVED
    assert improvement(200.0, slow.centre, "band", band) == -20.0  # 35 above it against 15 below
    assert verdict(improvement(200.0, slow.centre, "band", band), 12.0) == WORSE
    assert verdict(improvement(130.0, slow.centre, "band", band), 12.0) == USUAL  # 10 wpm closer: within 12
    assert improvement(160.0, 140.0, "band", band) == 0.0  # both comfortable: neither better nor worse


def test_too_few_earlier_sessions_say_how_many_more_are_needed():
    progress = assess(session(USUAL_VALUES), records([USUAL_VALUES]), PARAMS)
    assert (progress.earlier_sessions, progress.min_sessions, progress.sessions_needed) == (1, 3, 2)
    assert progress.headlines == () and "2 more are needed" in progress.reason
    result = interpret(measured(), earlier=[])
    assert result.personal.progress.sessions_needed == 3
    assert result.personal.progress.feedback == (
        "Progress against your own baseline starts after 3 sessions of this subject: 3 more sessions to go.",
    )


def test_a_headline_without_enough_values_or_missing_now_has_no_verdict_and_says_why():
    no_face = {k: v for k, v in USUAL_VALUES.items() if k != "eye_contact_ratio"}
    few = by_name(assess(session(USUAL_VALUES), records([USUAL_VALUES, no_face, no_face, USUAL_VALUES]), PARAMS))
    assert few["eye_contact_ratio"].verdict is None and few["eye_contact_ratio"].baseline is None
    assert few["eye_contact_ratio"].reason == "2 earlier sessions have a value for eye contact; progress needs 3."
    assert few["filler_rate_per_min"].verdict == USUAL
    missing_now = by_name(assess(session(no_face), records([USUAL_VALUES] * 3), PARAMS))["eye_contact_ratio"]
    assert missing_now.verdict is None and missing_now.reason == "No eye contact in this session."
    assert (missing_now.value, missing_now.baseline, missing_now.sessions) == (None, 0.7, 3)


def test_the_progress_entry_carries_value_baseline_change_and_threshold():
    rows = [{**USUAL_VALUES, "filler_rate_per_min": v} for v in (6.0, 6.5, 5.5, 6.0)]
    entry = by_name(assess(session({**USUAL_VALUES, "filler_rate_per_min": 2.0}), records(rows), PARAMS))[
        "filler_rate_per_min"
    ]
    assert (entry.value, entry.baseline, entry.change, entry.improvement) == (2.0, 6.0, -4.0, 4.0)
    # differences 0.5, -1, 0.5: median 0.5, deviations 0, 1.5, 0 → MAD 0 → the floor, 1 filler a minute
    assert entry.usual_variation == 1.0 and entry.threshold == 2.5 and entry.verdict == IMPROVED
    assert entry.sessions == 4 and entry.label == "filler words" and entry.better == "lower"


# Properties on constructed series


@settings(max_examples=60, deadline=None)
@given(earlier=st.integers(3, 10), drop=st.floats(1.5, 3.0), data=st.data())
def test_fillers_dropping_steadily_are_improved_while_the_rest_jitters_as_usual(earlier, drop, data):
    """Fillers fall by `drop` a minute per take (with a little noise); every other headline jitters within its floor
    around its usual value."""

    def jitter(name: str, centre: float) -> float:
        return centre + data.draw(st.floats(-1.0, 1.0)) * floor(name)

    fillers = [1.0 + drop * (earlier - i) + data.draw(st.floats(-0.2, 0.2)) for i in range(earlier + 1)]
    rows = [{**{k: jitter(k, v) for k, v in USUAL_VALUES.items()}, "filler_rate_per_min": f} for f in fillers]
    progress = by_name(assess(session(rows[-1]), records(rows[:-1]), PARAMS))
    assert progress["filler_rate_per_min"].verdict == IMPROVED
    assert {k: h.verdict for k, h in progress.items() if k != "filler_rate_per_min"} == {
        k: USUAL for k in HEADLINES if k != "filler_rate_per_min"
    }


@settings(max_examples=100, deadline=None)
@given(
    takes=st.lists(st.floats(0.0, 20.0), min_size=5, max_size=5), which=st.integers(0, 4), outlier=st.floats(-1e6, 1e6)
)
def test_one_outlier_take_moves_the_baseline_at_most_to_a_neighbouring_take(takes, which, outlier):
    before = baseline(takes, floor=1.0, centre_sessions=5, spread_sessions=10)
    changed = [outlier if i == which else v for i, v in enumerate(takes)]
    after = baseline(changed, floor=1.0, centre_sessions=5, spread_sessions=10)
    ordered = sorted(takes)
    assert ordered[1] <= after.centre <= ordered[3]
    assert ordered[1] <= before.centre <= ordered[3]


@settings(max_examples=100, deadline=None)
@given(takes=st.lists(st.floats(0.0, 20.0), min_size=3, max_size=10), value=st.floats(0.0, 20.0))
def test_reversing_the_direction_flips_the_verdict(takes, value):
    base = baseline(takes, floor=0.5, centre_sessions=5, spread_sessions=10)
    lower = verdict(improvement(value, base.centre, "lower"), 2.5 * base.spread)
    higher = verdict(improvement(value, base.centre, "higher"), 2.5 * base.spread)
    assert higher == FLIP[lower]
    mirrored = baseline([-t for t in takes], floor=0.5, centre_sessions=5, spread_sessions=10)
    assert verdict(improvement(-value, mirrored.centre, "lower"), 2.5 * mirrored.spread) == FLIP[lower]


@settings(max_examples=100, deadline=None)
@given(
    takes=st.lists(st.floats(50.0, 250.0), min_size=3, max_size=10), a=st.floats(50.0, 250.0), b=st.floats(50.0, 250.0)
)
def test_a_value_nearer_the_better_side_never_gets_a_worse_verdict(takes, a, b):
    rank = {WORSE: 0, USUAL: 1, IMPROVED: 2}
    band = best_band(PARAMS["metrics"]["pace_wpm"]["curve"])
    base = baseline(takes, floor=8.0, centre_sessions=5, spread_sessions=10)
    for better in ("lower", "higher", "band"):
        gains = [improvement(v, base.centre, better, band) for v in (a, b)]
        verdicts = [verdict(g, 2.5 * base.spread) for g in gains]
        if gains[0] >= gains[1]:
            assert rank[verdicts[0]] >= rank[verdicts[1]]


@pytest.mark.parametrize("earlier", [3, 5, 10])
def test_unchanged_speakers_rarely_get_a_verdict_and_a_steady_trend_is_found(earlier):
    """Simulated speakers whose takes vary by the floor (normal noise): the share called changed, and the share of
    steady learners (one floor better per take, noise 0.3 floors) called improved after their latest take."""
    rng = np.random.default_rng(earlier)

    def called(series: np.ndarray) -> str:
        base = baseline(list(series[:-1]), floor=1.0, centre_sessions=5, spread_sessions=10)
        return verdict(improvement(series[-1], base.centre, "lower"), 2.5 * base.spread)

    unchanged = [called(rng.normal(0.0, 1.0, earlier + 1)) for _ in range(4000)]
    learning = [called(-np.arange(earlier + 1.0) + rng.normal(0.0, 0.3, earlier + 1)) for _ in range(1000)]
    assert sum(v != USUAL for v in unchanged) / len(unchanged) < 0.04  # measured ~0.02
    if earlier >= 5:
        assert sum(v == IMPROVED for v in learning) / len(learning) > 0.8  # measured ~0.88


# Through the interpretation


def interpret_series(rows: list[dict[str, float]]):
    """Each row analysed in turn with the sessions before it, as the service stores them; the last answer."""
    earlier: list[SessionRecord] = []
    for i, row in enumerate(rows):
        result = interpret(measured(row), earlier=earlier)
        earlier.append(stored(result, START + timedelta(days=i)))
    return result


def test_a_request_without_a_subject_is_unchanged():
    plain = interpret(measured())
    assert plain.personal is None
    first = interpret(measured(), earlier=[])
    assert first.categories == plain.categories and first.overall_score == plain.overall_score
    assert first.recommendation == plain.recommendation and first.personal.calibration == ()
    assert first.personal.session.metrics == GOOD
    assert first.personal.session.scores == {
        **{k: c.score for k, c in plain.categories.items()},
        "overall": float(plain.overall_score),
    }


def test_through_the_interpretation_fewer_fillers_are_improved_and_no_other_metric_changes():
    rows = [{**GOOD, "filler_rate_per_min": f} for f in (9.0, 8.5, 9.5, 9.0, 2.0)]
    result = interpret_series(rows)
    progress = by_name(result.personal.progress)
    assert progress["filler_rate_per_min"].verdict == IMPROVED
    assert progress["filler_rate_per_min"].baseline == 9.0
    assert all(progress[k].verdict == USUAL for k in METRICS if k != "filler_rate_per_min")
    # scores that weigh fillers may rise with them; none falls
    assert all(progress[k].verdict in (USUAL, IMPROVED) for k in SCORES)
    assert (
        "Better than your usual, beyond your take-to-take variation: your filler words, 2.0 per minute against "
        "9.0 per minute (the median of 4 earlier sessions)." in result.detailed_feedback
    )


def test_the_recommendation_prefers_what_is_worse_than_the_persons_own_baseline():
    slow = {**GOOD, "pace_wpm": 100.0}  # the lowest population score: the stateless recommendation's pick
    rows = [{**slow, "eye_contact_ratio": 0.95}] * 4 + [{**slow, "eye_contact_ratio": 0.7}]
    assert "Pace is slow" in interpret(measured(rows[-1])).recommendation
    result = interpret_series(rows)
    assert result.recommendation.startswith(
        "Focus on one thing next take, where you are worse than your own usual: "
        "your eye contact, 70% of the frames against 95% of the frames"
    )
    assert result.recommendation.endswith("Put a sticker next to the lens and finish each sentence looking at it.")
    assert by_name(result.personal.progress)["pace_wpm"].verdict == USUAL


def test_personal_calibration_starts_after_enough_sessions_and_feeds_the_categories():
    shy = {**GOOD, "smile_ratio": 0.03}  # a population score of 4.2
    four = interpret_series([shy] * 5)
    assert [c.metric for c in four.personal.calibration] == []  # 4 earlier sessions: not yet
    five = interpret_series([shy] * 6)
    smile = {c.metric: c for c in five.personal.calibration}["smile_ratio"]
    assert smile.population_score == pytest.approx(4.2)
    assert (smile.baseline.centre, smile.baseline.spread, smile.z, smile.personal_score) == (0.03, 0.05, 0.0, 10.0)
    assert smile.score == pytest.approx(0.5 * 4.2 + 0.5 * 10.0)
    components = {c.metric: c.score for c in five.categories["likeability"].components}
    assert components["smile_ratio"] == pytest.approx(smile.score)
    assert five.categories["likeability"].score > four.categories["likeability"].score
    assert sorted(c.metric for c in five.personal.calibration) == ["pace_wpm", "pitch_sd_semitones", "smile_ratio"]
    # calibration starting is not progress: the earlier sessions are re-scored under the same rules
    assert by_name(five.personal.progress)["likeability"].verdict == USUAL
    less = interpret_series([shy] * 6 + [{**shy, "smile_ratio": 0.0}])  # 0.03 below: 0.6 of the floor, 0.05
    drop = {c.metric: c for c in less.personal.calibration}["smile_ratio"]
    assert drop.z == pytest.approx(-0.6) and drop.score < smile.score


def test_category_progress_compares_like_with_like_after_a_rules_change():
    rows = [dict(GOOD)] * 4
    earlier = [stored(interpret(measured(row), earlier=[]), START + timedelta(days=i)) for i, row in enumerate(rows)]
    old_rules = [
        SessionRecord(metrics=s.metrics, scores={k: v / 2 for k, v in s.scores.items()}, at=s.at) for s in earlier
    ]  # as if an older parameter version had scored them half as high
    progress = by_name(interpret(measured(), earlier=old_rules).personal.progress)
    assert all(progress[k].verdict == USUAL and progress[k].change == 0 for k in SCORES)


def test_pace_is_judged_in_the_metric_the_language_is_scored_by():
    """English pace is words a minute; Spanish pace is over Spanish's own comfortable centre (pace_relative)."""
    spanish = {**GOOD, "pace_relative": 1.0}
    del spanish["pace_wpm"]

    def in_spanish(values: dict) -> Measurements:
        m = measured(values)
        facts = replace(
            m.facts, syllables_per_s=4.11 * values["pace_relative"], comfortable_rate=4.11, pace_unit="syllable"
        )
        return replace(m, facts=facts, spoken_language="es")

    earlier = [stored(interpret(in_spanish(spanish), earlier=[]), START + timedelta(i)) for i in range(5)]
    result = interpret(in_spanish({**spanish, "pace_relative": 1.6}), earlier=earlier)
    progress = by_name(result.personal.progress)
    assert "pace_wpm" not in progress and progress["pace_relative"].verdict == WORSE
    assert [c.metric for c in result.personal.calibration if c.metric.startswith("pace")] == ["pace_relative"]
    english = by_name(
        interpret(measured(), earlier=[stored(interpret(measured(), earlier=[]), START)] * 3).personal.progress
    )
    assert "pace_relative" not in english and english["pace_wpm"].verdict == USUAL


@pytest.mark.parametrize("language", [code for code in feedback_languages() if code != "en"])
def test_progress_is_said_in_the_feedback_language(language):
    """The verdict sentences, the focus, the too-few and not-measured reasons and the labels come from the catalogs:
    no English word is left in another language's progress."""
    from tests.test_feedback_language import english_left

    rows = [
        {**GOOD, "filler_rate_per_min": f, "eye_contact_ratio": e}
        for f, e in ((9.0, 0.85), (8.5, 0.86), (9.5, 0.84), (9.0, 0.85), (2.0, 0.40))
    ]
    judged, too_few = interpret_series(rows), interpret_series(rows[:2])
    say = translator(language).render
    texts = [
        say(judged.detailed_feedback),
        say(judged.recommendation),
        say(too_few.personal.progress.feedback[0]),
        *(say(h.label) for h in judged.personal.progress.headlines),
        *(say(h.reason) for h in too_few.personal.progress.headlines if h.reason),
    ]
    assert all(texts) and not any(english_left(text, language) for text in texts), texts
