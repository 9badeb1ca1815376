"""The outcome rules against hand-computed cases (no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ketaclinic.outcomes.rules import Score, Status, assess, course_outcome, shipped_definitions
from ketaclinic.outcomes.rules.definitions import JacobsonTruax
from ketaclinic.outcomes.rules.stats import (
    at_risk_at,
    kaplan_meier,
    percentile_cont,
    survival_at,
    wilson,
)

DEFS = shipped_definitions()
DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


# Infusions on days 0, 2, 4, 7, 9, 11 (Murrough 2013's 6 over 12 days).
INFUSIONS = [day(d) for d in (0, 2, 4, 7, 9, 11)]


@pytest.mark.parametrize(
    ("measure", "baseline", "score", "responded", "remitted"),
    [
        ("gad7", 16, 8, True, False),  # exactly 50 %: a tie counts
        ("gad7", 16, 9, False, False),  # 43.75 %
        ("gad7", 15, 8, False, False),  # 46.7 %
        ("gad7", 15, 7, True, False),  # 53.3 %
        ("gad7", 10, 5, True, False),  # 50 %, but 5 is not < 5
        ("gad7", 10, 4, True, True),  # remission is < 5
        ("phq9", 8, 4, True, True),
        ("ybocs", 20, 13, True, False),  # exactly 35 %
        ("ybocs", 20, 14, False, False),  # 30 %
        ("ybocs", 20, 12, True, True),  # remission <= 12
        ("lsas", 80, 52, True, False),  # exactly 35 %
        ("lsas", 80, 53, False, False),
        ("pdss_sr", 10, 6, True, False),  # 40 % (Furukawa 2009)
        ("hama", 24, 7, True, True),  # remission <= 7
        ("gad7", 0, 0, False, True),  # a baseline of 0 has no percent change
    ],
)
def test_response_and_remission_at_the_thresholds(
    measure: str, baseline: int, score: int, responded: bool, remitted: bool
) -> None:
    result = assess(Score(day(10), score), baseline, DEFS.measure(measure))
    assert (result.responded, result.remitted) == (responded, remitted)


def test_percent_fall_is_none_for_a_zero_baseline() -> None:
    assert assess(Score(day(1), 3), 0, DEFS.measure("gad7")).percent_fall is None
    assert assess(Score(day(1), 6), 16, DEFS.measure("gad7")).percent_fall == 62.5


@pytest.mark.parametrize(
    ("measure", "baseline", "score", "improved", "deteriorated"),
    [
        ("gad7", 12, 8, True, False),  # fall 4 = the IAPT threshold
        ("gad7", 12, 9, False, False),  # fall 3
        ("gad7", 8, 12, False, True),  # rise 4
        ("phq9", 15, 9, True, False),  # fall 6
        ("phq9", 15, 10, False, False),  # fall 5
        ("phq9", 9, 15, False, True),  # rise 6
    ],
)
def test_reliable_change_uses_the_iapt_points(
    measure: str, baseline: int, score: int, improved: bool, deteriorated: bool
) -> None:
    result = assess(Score(day(10), score), baseline, DEFS.measure(measure))
    assert result.reliable_improvement is improved
    assert result.reliable_deterioration is deteriorated


def test_jacobson_truax_threshold_from_reliability_and_sd() -> None:
    # GAD-7: SD 5.6, r .87 -> S_diff = 5.6 * sqrt(2) * sqrt(0.13) = 2.8554; x 1.96 = 5.597
    # (Bischoff 2020 report an RCI of 5.59, rounded to 6).
    jt = DEFS.measure("gad7").jacobson_truax
    assert jt is not None
    assert jt.s_diff == pytest.approx(5.6 * math.sqrt(2) * math.sqrt(0.13))
    assert jt.points == pytest.approx(5.597, abs=0.001)
    assert JacobsonTruax(sd=4.6, reliability=0.92, source="").points == pytest.approx(3.606, 1e-3)
    fell_five = assess(Score(day(10), 10), 15, DEFS.measure("gad7"))
    fell_six = assess(Score(day(10), 9), 15, DEFS.measure("gad7"))
    assert fell_five.reliable_improvement is True and fell_five.jt_improvement is False
    assert fell_six.jt_improvement is True


@pytest.mark.parametrize(
    ("baseline", "score", "recovered", "reliable_recovery"),
    [
        (12, 7, True, True),  # case at start (>= 8), below at the end, fall 5 >= 4
        (9, 7, True, False),  # recovered, but a fall of 2 is not reliable
        (7, 2, False, False),  # not a case at the start
        (8, 8, False, False),  # still a case (8 is the cut-off)
    ],
)
def test_recovery_needs_caseness_at_start_and_below_at_the_end(
    baseline: int, score: int, recovered: bool, reliable_recovery: bool
) -> None:
    result = assess(Score(day(10), score), baseline, DEFS.measure("gad7"))
    assert result.recovered is recovered
    assert result.reliable_recovery is reliable_recovery


def test_baseline_is_the_last_score_before_the_first_infusion_within_the_window() -> None:
    scores = [Score(day(-40), 20), Score(day(-10), 18), Score(day(-1), 16), Score(day(0), 3)]
    outcome = course_outcome(
        measure_code="gad7", scores=scores, infusions=INFUSIONS, definitions=DEFS
    )
    assert outcome.baseline == 16  # the day-0 score is at the infusion, not before it
    assert outcome.definitions_label == "ketaclinic-outcomes v1"


def test_a_score_older_than_the_window_is_no_baseline() -> None:
    scores = [Score(day(-31), 18), Score(day(3), 8)]
    outcome = course_outcome(
        measure_code="gad7", scores=scores, infusions=INFUSIONS, definitions=DEFS
    )
    assert outcome.baseline is None
    assert outcome.status is Status.NO_BASELINE
    assert outcome.infusion_scores[1] == 8  # the raw score is still shown
    assert outcome.by_infusion[1] is None


def test_a_course_with_one_score_has_a_baseline_and_nothing_after() -> None:
    outcome = course_outcome(
        measure_code="gad7", scores=[Score(day(-2), 15)], infusions=INFUSIONS, definitions=DEFS
    )
    assert outcome.baseline == 15
    assert outcome.status is Status.NO_SCORE_YET
    assert outcome.latest is None
    assert all(a is None for a in outcome.by_infusion)
    assert outcome.durability_days is None


def test_no_infusions_means_no_outcome() -> None:
    outcome = course_outcome(
        measure_code="gad7", scores=[Score(day(-2), 15)], infusions=[], definitions=DEFS
    )
    assert outcome.status is Status.NO_BASELINE
    assert outcome.by_infusion == ()


def test_scores_by_infusion_time_to_response_and_loss() -> None:
    # Baseline 16 on day -1. Pre-dose scores before infusions 2-6 belong to the infusion before.
    scores = [
        Score(day(-1), 16),
        Score(day(1.9), 14),  # after infusion 1
        Score(day(3.9), 12),  # after infusion 2
        Score(day(6.9), 8),  # after infusion 3: 50 % -> response
        Score(day(8.9), 4),  # after infusion 4: remission
        Score(day(10.9), 5),  # after infusion 5
        Score(day(12), 6),  # after infusion 6 (within 14 days of it)
        Score(day(30), 9),  # follow-up (19 days after the last): 43.75 % -> lost
    ]
    outcome = course_outcome(
        measure_code="gad7", scores=scores, infusions=INFUSIONS, definitions=DEFS
    )
    assert outcome.infusion_scores == (14, 12, 8, 4, 5, 6)
    assert [a.responded for a in outcome.by_infusion if a] == [False, False, True, True, True, True]
    assert outcome.response_infusion == 3
    assert outcome.response_days == 6  # day 6.9 - day 0, whole days
    post = outcome.follow_ups["post_induction"]
    assert post is not None and post.score == 9 and not post.responded
    assert outcome.status is Status.LOST_RESPONSE
    assert outcome.lost_response_days == 23  # day 30 - day 6.9
    assert (outcome.durability_days, outcome.durability_event) == (23, True)


def test_a_responder_still_responding_is_censored_at_the_last_score() -> None:
    scores = [Score(day(-1), 20), Score(day(3), 9), Score(day(20), 4)]
    outcome = course_outcome(
        measure_code="gad7", scores=scores, infusions=INFUSIONS, definitions=DEFS
    )
    assert outcome.status is Status.REMITTED
    assert (outcome.durability_days, outcome.durability_event) == (17, False)


def test_disorder_from_the_diagnoses() -> None:
    assert DEFS.disorder_of(["F41.1"]) == "gad"
    assert DEFS.disorder_of(["f40.11"]) == "social"
    assert DEFS.disorder_of(["F40.01"]) == "panic"
    assert DEFS.disorder_of(["F42.2", "F41.1"]) == "ocd"
    assert DEFS.disorder_of(["Z00"]) is None


def test_every_measure_names_its_source() -> None:
    for measure in DEFS.measures.values():
        assert measure.source


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Hand-computed: p = 0.5, n = 10: centre 0.5, half = 1.96*sqrt(.025+.0096)/1.3842
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (537, 1000, 0.5060, 0.5677),
    ],
)
def test_wilson_interval(k: int, n: int, low: float, high: float) -> None:
    interval = wilson(k, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_wilson_without_a_denominator_is_none() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_percentile_cont_matches_sql() -> None:
    values = [2.0, 4.0, 7.0, 10.0]
    assert percentile_cont(values, 0.5) == 5.5
    assert percentile_cont(values, 0.25) == 3.5
    assert percentile_cont(values, 0.75) == 7.75
    assert percentile_cont([], 0.5) is None


def test_kaplan_meier_equals_the_hand_computed_table() -> None:
    # times (days from response to loss): events at 7, 14, 14, 30; censored at 10, 21, 40.
    data = [(7, True), (10, False), (14, True), (14, True), (21, False), (30, True), (40, False)]
    steps = kaplan_meier(data)
    # t   at risk  events  censored  S(t)
    # 7   7        1       0         6/7                 = 0.857143
    # 10  6        0       1         0.857143
    # 14  5        2       0         0.857143 * 3/5      = 0.514286
    # 21  3        0       1         0.514286
    # 30  2        1       0         0.514286 * 1/2      = 0.257143
    # 40  1        0       1         0.257143
    table = [(s.time, s.at_risk, s.events, s.censored, round(s.survival, 6)) for s in steps]
    assert table == [
        (7, 7, 1, 0, 0.857143),
        (10, 6, 0, 1, 0.857143),
        (14, 5, 2, 0, 0.514286),
        (21, 3, 0, 1, 0.514286),
        (30, 2, 1, 0, 0.257143),
        (40, 1, 0, 1, 0.257143),
    ]
    assert survival_at(steps, 28) == pytest.approx(0.514286, abs=1e-6)
    assert survival_at(steps, 3) == 1.0
    assert at_risk_at(steps, 28) == 2
    assert at_risk_at(steps, 50) == 0
