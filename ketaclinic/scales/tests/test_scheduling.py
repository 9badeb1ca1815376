"""Due and overdue questionnaires from schedule rules: the pure function, table-driven."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.scales.scheduling import (
    DueItem,
    Rule,
    add_months,
    due_items,
    next_due_on,
    outstanding_before_infusion,
)

START = date(2026, 3, 2)


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


@pytest.mark.parametrize(
    ("rule", "answered", "today", "expected"),
    [
        # never answered: due from the start date, overdue after the grace days
        (Rule("gad7", "weekly", START), [], d(1), []),
        (Rule("gad7", "weekly", START), [], d(2), [DueItem("gad7", d(2), "due", 0)]),
        (Rule("gad7", "weekly", START), [], d(4), [DueItem("gad7", d(2), "due", 2)]),
        (Rule("gad7", "weekly", START), [], d(5), [DueItem("gad7", d(2), "overdue", 3)]),
        # weekly: seven days after the last answer
        (Rule("gad7", "weekly", START), [d(2)], d(8), []),
        (Rule("gad7", "weekly", START), [d(2)], d(9), [DueItem("gad7", d(9), "due", 0)]),
        (Rule("gad7", "weekly", START), [d(2), d(10)], d(16), []),
        (
            Rule("gad7", "weekly", START),
            [d(2), d(10)],
            d(20),
            [DueItem("gad7", d(17), "overdue", 3)],
        ),
        # answers before the rule started do not count
        (Rule("gad7", "weekly", START), [d(1)], d(2), [DueItem("gad7", d(2), "due", 0)]),
        # monthly: calendar months
        (Rule("phq9", "monthly", START), [d(2)], d(1, 4), []),
        (Rule("phq9", "monthly", START), [d(2)], d(2, 4), [DueItem("phq9", d(2, 4), "due", 0)]),
        # custom interval and grace
        (Rule("phq9", "interval", START, 10, 0), [d(2)], d(12), [DueItem("phq9", d(12), "due", 0)]),
        (
            Rule("phq9", "interval", START, 10, 0),
            [d(2)],
            d(13),
            [DueItem("phq9", d(12), "overdue", 1)],
        ),
    ],
)
def test_interval_rules_list_due_and_overdue(
    rule: Rule, answered: list[date], today: date, expected: list[DueItem]
) -> None:
    assert due_items(rule, answered, today=today) == expected


INFUSION = Rule("gad7", "before_infusion", START, interval_days=3, grace_days=2)


@pytest.mark.parametrize(
    ("answered", "today", "infusions", "expected"),
    [
        ([], d(10), [], []),
        # not yet within the window before the infusion
        ([], d(16), [d(20)], []),
        ([], d(17), [d(20)], [DueItem("gad7", d(20), "due", 0, d(20))]),
        ([], d(20), [d(20)], [DueItem("gad7", d(20), "due", 0, d(20))]),
        # an answer in the window satisfies it, one before the window does not
        ([d(18)], d(19), [d(20)], []),
        ([d(20)], d(20), [d(20)], []),
        ([d(16)], d(19), [d(20)], [DueItem("gad7", d(20), "due", 0, d(20))]),
        # infusion passed without an answer: overdue, then no longer listed after the grace
        ([], d(21), [d(20)], [DueItem("gad7", d(20), "overdue", 1, d(20))]),
        ([], d(22), [d(20)], [DueItem("gad7", d(20), "overdue", 2, d(20))]),
        ([], d(23), [d(20)], []),
        # two infusions, one answered
        (
            [d(9)],
            d(11),
            [d(10), d(12)],
            [DueItem("gad7", d(12), "due", 0, d(12))],
        ),
    ],
)
def test_before_infusion_rule(
    answered: list[date], today: date, infusions: list[date], expected: list[DueItem]
) -> None:
    assert due_items(INFUSION, answered, today=today, infusions_on=infusions) == expected


def test_a_rule_for_another_phase_is_not_due() -> None:
    rule = Rule("gad7", "weekly", START, phase="induction")
    assert due_items(rule, [], today=d(10), current_phase="maintenance") == []
    assert len(due_items(rule, [], today=d(10), current_phase="induction")) == 1
    assert len(due_items(Rule("gad7", "weekly", START), [], today=d(10), current_phase="x")) == 1


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 2), 12, date(2027, 3, 2)),
    ],
)
def test_add_months_keeps_the_day_or_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_monthly_rule_from_the_end_of_january() -> None:
    rule = Rule("phq9", "monthly", date(2026, 1, 1))
    assert next_due_on(rule, [date(2026, 1, 31)]) == date(2026, 2, 28)


def test_rules_refuse_impossible_settings() -> None:
    with pytest.raises(ValueError, match="interval_days"):
        Rule("gad7", "interval", START)
    with pytest.raises(ValueError, match="grace_days"):
        Rule("gad7", "weekly", START, grace_days=-1)
    with pytest.raises(ValueError, match="per infusion"):
        next_due_on(INFUSION, [])


# -- pre-dose questionnaires: what the before-infusion rules still ask for ----------------------


def test_outstanding_before_infusion_lists_unanswered_pre_dose_instruments() -> None:
    rules = [
        Rule("gad7", "before_infusion", START),
        Rule("phq9", "before_infusion", START, interval_days=1),
        Rule("hama", "before_infusion", START, phase="maintenance"),
        Rule("spin", "weekly", START),  # interval rules are not pre-dose questionnaires
    ]
    infusion = d(10)
    assert outstanding_before_infusion(rules, {}, infusion_on=infusion) == ["gad7", "hama", "phq9"]
    assert outstanding_before_infusion(
        rules, {}, infusion_on=infusion, current_phase="induction"
    ) == ["gad7", "phq9"]
    # GAD-7's window is the default 3 days, PHQ-9's 1 day, up to and including the day.
    answered = {"gad7": [d(7)], "phq9": [d(8)]}
    assert outstanding_before_infusion(
        rules, answered, infusion_on=infusion, current_phase="induction"
    ) == ["phq9"]
    answered = {"gad7": [d(6)], "phq9": [d(10)]}
    assert outstanding_before_infusion(
        rules, answered, infusion_on=infusion, current_phase="induction"
    ) == ["gad7"]
    # a rule that starts after the infusion does not ask yet
    later = [Rule("gad7", "before_infusion", d(11))]
    assert outstanding_before_infusion(later, {}, infusion_on=infusion) == []
