"""The care plan's pure rules: goal measures, versions and signing, the safety plan."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.careplan.rules import content as plan_content
from ketaclinic.careplan.rules.goals import (
    Comparator,
    ScaleMeasure,
    Standing,
    TargetMeasure,
    scale_standing,
    target_standing,
    threshold_met,
)
from ketaclinic.careplan.rules.safety_plan import (
    CRISIS_LINE,
    SECTION_KEYS,
    lines,
    missing_sections,
    professionals_with_crisis_line,
)
from ketaclinic.careplan.rules.versions import (
    SignCheck,
    VersionLocked,
    VersionStatus,
    next_number,
    require_editable,
    review_due,
    sign_refusals,
)

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("score", "comparator", "threshold", "met"),
    [
        (9, Comparator.LT, 10, True),
        (10, Comparator.LT, 10, False),
        (10, Comparator.LE, 10, True),
        (11, Comparator.LE, 10, False),
        (6, Comparator.GT, 5, True),
        (5, Comparator.GT, 5, False),
        (5, Comparator.GE, 5, True),
        (4, Comparator.GE, 5, False),
    ],
)
def test_threshold_met_each_direction(
    score: int, comparator: Comparator, threshold: int, met: bool
) -> None:
    assert threshold_met(score, comparator, threshold) is met


def test_scale_goal_stands_against_the_latest_score() -> None:
    gad7_under_10 = ScaleMeasure("gad7", Comparator.LT, 10)
    assert scale_standing(gad7_under_10, None) is Standing.NO_SCORE
    assert scale_standing(gad7_under_10, 12) is Standing.NOT_MET
    assert scale_standing(gad7_under_10, 7) is Standing.MET


def test_plain_target_is_open_until_its_date_then_due_for_review() -> None:
    work = TargetMeasure("back to work three days a week", date(2026, 12, 31))
    assert target_standing(work, TODAY) is Standing.OPEN
    assert target_standing(work, date(2027, 1, 1)) is Standing.DUE
    assert target_standing(TargetMeasure("x", None), TODAY) is Standing.OPEN


def test_goal_measure_reads_each_kind_from_content() -> None:
    scale = plan_content.goal_measure(
        {"kind": "scale", "instrument": "gad7", "comparator": "lt", "threshold": 10}
    )
    assert scale == ScaleMeasure("gad7", Comparator.LT, 10)
    target = plan_content.goal_measure(
        {"kind": "target", "target": "walk daily", "target_date": "2027-02-01"}
    )
    assert target == TargetMeasure("walk daily", date(2027, 2, 1))


def test_versions_number_from_one_and_signed_ones_never_change() -> None:
    assert next_number([]) == 1
    assert next_number([1, 2, 3]) == 4
    require_editable(VersionStatus.DRAFT)
    with pytest.raises(VersionLocked):
        require_editable(VersionStatus.SIGNED)


def _full_safety() -> dict[str, list[str]]:
    return {key: ["something"] for key in SECTION_KEYS}


def test_a_complete_draft_may_be_signed() -> None:
    check = SignCheck(problems=1, goals=1, review_on=date(2027, 3, 1), safety_plan=_full_safety())
    assert sign_refusals(check, TODAY) == []


def test_signing_needs_problem_goal_future_review_and_every_safety_section() -> None:
    safety = _full_safety()
    safety["environment"] = []
    check = SignCheck(problems=0, goals=0, review_on=TODAY, safety_plan=safety)
    reasons = sign_refusals(check, TODAY)
    assert any("problem" in r for r in reasons)
    assert any("goal" in r for r in reasons)
    assert any("review date must be after today" in r for r in reasons)
    assert any("Making the environment safe" in r for r in reasons)
    no_date = SignCheck(problems=1, goals=1, review_on=None, safety_plan=_full_safety())
    assert sign_refusals(no_date, TODAY) == ["Set a review date."]


def test_the_988_lifeline_is_always_among_the_professionals() -> None:
    assert professionals_with_crisis_line(["Dr Ada"]) == ["Dr Ada", CRISIS_LINE]
    assert professionals_with_crisis_line(["Call 988"]) == ["Call 988"]
    assert missing_sections({"warning_signs": ["a"]})[0] == "2. Internal coping strategies"
    assert lines(" one \n\n two ") == ["one", "two"]


def test_review_is_due_once_the_date_has_passed() -> None:
    assert review_due(date(2026, 12, 2), TODAY)
    assert not review_due(TODAY, TODAY)
    assert not review_due(None, TODAY)


def test_therapists_are_those_the_plan_names_in_house() -> None:
    content = plan_content.empty()
    assert plan_content.therapist_ids(content) == set()
    content["psychotherapy"]["provider"] = "external"
    content["psychotherapy"]["therapist_id"] = 5  # ignored: external therapy
    content["integration"] = {"planned": True, "therapist_id": 7, "timing": ""}
    assert plan_content.therapist_ids(content) == {7}
