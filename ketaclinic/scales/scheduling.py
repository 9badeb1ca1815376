"""Which questionnaires are due and overdue: pure, typed functions (no Django import).

A rule says how often an instrument is asked (``weekly``, ``monthly``, every ``interval`` days,
or ``before_infusion``). Given the dates it was answered on, today's date and, for the
infusion rule, the infusion dates, ``due_items`` lists what is due now with its due date.

Everything is in dates of the clinic's calendar; callers convert moments to local dates first.

- Interval rules: the next due date is the last answer plus the interval (calendar months for
  ``monthly``); with no answer since the rule started, the rule's start date. On or after the
  due date it is "due"; more than ``grace_days`` after it, "overdue".
- ``before_infusion``: for each infusion, an answer in the ``window_days`` up to and including
  the infusion day satisfies it. Without one it is "due" from ``window_days`` before the
  infusion to the infusion day, and "overdue" after the infusion (for ``grace_days``, after
  which a missed infusion is no longer listed).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

RuleKind = Literal["before_infusion", "weekly", "monthly", "interval"]
Status = Literal["due", "overdue"]

WEEK_DAYS: Final = 7
DEFAULT_WINDOW_DAYS: Final = 3
"""Before an infusion, an answer up to this many days ahead counts, unless the rule says."""


@dataclass(frozen=True, slots=True)
class Rule:
    instrument: str
    kind: RuleKind
    starts_on: date
    interval_days: int | None = None
    grace_days: int = 2
    phase: str = "any"

    def __post_init__(self) -> None:
        if self.kind == "interval" and (self.interval_days is None or self.interval_days < 1):
            raise ValueError("an interval rule needs interval_days of at least 1")
        if self.grace_days < 0:
            raise ValueError("grace_days must not be negative")

    @property
    def window_days(self) -> int:
        """``before_infusion``: how many days before the infusion an answer counts."""
        return self.interval_days if self.interval_days is not None else DEFAULT_WINDOW_DAYS


@dataclass(frozen=True, slots=True)
class DueItem:
    instrument: str
    due_on: date
    status: Status
    days_late: int
    infusion_on: date | None = None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due_on(rule: Rule, answered_on: Iterable[date]) -> date:
    """The next due date of an interval rule (not ``before_infusion``)."""
    if rule.kind == "before_infusion":
        raise ValueError("before_infusion rules are due per infusion")
    answers = [day for day in answered_on if day >= rule.starts_on]
    if not answers:
        return rule.starts_on
    last = max(answers)
    if rule.kind == "monthly":
        return add_months(last, 1)
    days = WEEK_DAYS if rule.kind == "weekly" else rule.interval_days
    assert days is not None  # checked in Rule.__post_init__
    return last + timedelta(days=days)


def _status(due_on: date, today: date, grace_days: int) -> Status | None:
    if today < due_on:
        return None
    return "overdue" if (today - due_on).days > grace_days else "due"


def due_items(
    rule: Rule,
    answered_on: Sequence[date],
    *,
    today: date,
    infusions_on: Sequence[date] = (),
    current_phase: str | None = None,
) -> list[DueItem]:
    """What ``rule`` makes due today (empty when nothing is). A rule for another phase than
    ``current_phase`` (when given) is not due; a rule for phase "any" always applies."""
    if current_phase is not None and rule.phase not in {"any", current_phase}:
        return []
    if rule.kind != "before_infusion":
        due_on = next_due_on(rule, answered_on)
        status = _status(due_on, today, rule.grace_days)
        if status is None:
            return []
        return [DueItem(rule.instrument, due_on, status, max(0, (today - due_on).days))]

    window = rule.window_days
    items: list[DueItem] = []
    previous: date | None = None
    for infusion in sorted(set(infusions_on)):
        opens = infusion - timedelta(days=window)
        if previous is not None:
            opens = max(opens, previous + timedelta(days=1))
        previous = infusion
        if infusion < rule.starts_on:
            continue
        if any(opens <= day <= infusion for day in answered_on):
            continue
        if today < opens or (today - infusion).days > rule.grace_days:
            continue
        late = max(0, (today - infusion).days)
        state: Status = "due" if today <= infusion else "overdue"
        items.append(DueItem(rule.instrument, infusion, state, late, infusion))
    return items


def outstanding_before_infusion(
    rules: Iterable[Rule],
    answered_on: Mapping[str, Sequence[date]],
    *,
    infusion_on: date,
    current_phase: str | None = None,
) -> list[str]:
    """The instruments that the ``before_infusion`` rules ask for before an infusion on
    ``infusion_on`` and that have no answer in their window yet (sorted, each once).

    ``answered_on`` maps an instrument to the dates it was answered on. Interval rules are not
    pre-dose questionnaires and never count here; a rule for another phase does not apply.
    """
    outstanding = {
        rule.instrument
        for rule in rules
        if rule.kind == "before_infusion"
        and due_items(
            rule,
            answered_on.get(rule.instrument, ()),
            today=infusion_on,
            infusions_on=[infusion_on],
            current_phase=current_phase,
        )
    }
    return sorted(outstanding)
