"""Regulatory deadlines for the ketamine ledger (DEA Schedule III).

The periods live in `PERIODS`, each with its CFR source; code reads them from there.

Business days are Monday to Friday except US federal holidays (5 U.S.C. 6103, observed on the
Friday before when they fall on a Saturday and the Monday after when on a Sunday). The holidays
are computed from those rules, not listed; Inauguration Day (Washington DC area only) is not
included. Pass your own `holidays` set where a clinic or DEA office counts differently.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Unit = Literal["business_days", "days", "years"]


@dataclass(frozen=True, slots=True)
class RegulatoryPeriod:
    amount: int
    unit: Unit
    source: str
    summary: str


PERIODS: Mapping[str, RegulatoryPeriod] = {
    "theft_loss_notice": RegulatoryPeriod(
        amount=1,
        unit="business_days",
        source="21 CFR 1301.76(b)",
        summary="Written notice of theft or significant loss to the DEA Field Division Office "
        "within one business day of discovery.",
    ),
    "form_106": RegulatoryPeriod(
        amount=45,
        unit="days",
        source="21 CFR 1301.76(b)",
        summary="DEA Form 106 (theft or loss report), submitted electronically, within 45 days "
        "of discovery (time frame set by the final rule of 22 June 2023, 88 FR 40707).",
    ),
    "biennial_inventory": RegulatoryPeriod(
        amount=2,
        unit="years",
        source="21 CFR 1304.11(c)",
        summary="A new inventory of all controlled substances on hand at least every two years "
        "after the previous one.",
    ),
    "record_retention": RegulatoryPeriod(
        amount=2,
        unit="years",
        source="21 CFR 1304.04(a)",
        summary="Every record and inventory kept and available for inspection for at least two "
        "years from its date.",
    ),
}


# --- US federal holidays -------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) `weekday` (Monday is 0) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == calendar.SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == calendar.SUNDAY:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> frozenset[date]:
    """Observed US federal holidays falling in `year` (5 U.S.C. 6103; rules as of 2021).

    New Year's Day of the next year is included when it is observed on 31 December.
    """
    fixed = [
        date(year, 1, 1),
        date(year, 7, 4),
        date(year, 11, 11),
        date(year, 12, 25),
    ]
    if year >= 2021:  # Juneteenth National Independence Day Act, 2021
        fixed.append(date(year, 6, 19))
    floating = [
        _nth_weekday(year, 1, calendar.MONDAY, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, calendar.MONDAY, 3),  # Washington's Birthday
        _nth_weekday(year, 5, calendar.MONDAY, -1),  # Memorial Day
        _nth_weekday(year, 9, calendar.MONDAY, 1),  # Labor Day
        _nth_weekday(year, 10, calendar.MONDAY, 2),  # Columbus Day
        _nth_weekday(year, 11, calendar.THURSDAY, 4),  # Thanksgiving Day
    ]
    days = {_observed(d) for d in fixed} | set(floating)
    next_new_year = _observed(date(year + 1, 1, 1))
    if next_new_year.year == year:
        days.add(next_new_year)
    return frozenset(d for d in days if d.year == year)


# --- date arithmetic -----------------------------------------------------------------------


def is_business_day(day: date, holidays: frozenset[date] | None = None) -> bool:
    """Monday to Friday and not a holiday (None: US federal holidays)."""
    if day.weekday() >= calendar.SATURDAY:
        return False
    if holidays is None:
        holidays = us_federal_holidays(day.year)
    return day not in holidays


def business_days_after(day: date, count: int, holidays: frozenset[date] | None = None) -> date:
    """The date `count` business days after `day` (`day` itself does not count)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            remaining -= 1
    return current


def business_day_after(day: date, holidays: frozenset[date] | None = None) -> date:
    """The next business day after `day`: Friday gives Monday, unless Monday is a holiday.

    `holidays=None` uses US federal holidays; pass `frozenset()` to skip only weekends.
    """
    return business_days_after(day, 1, holidays)


def add_years(day: date, years: int) -> date:
    """Same month and day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_end(
    start: date, period: RegulatoryPeriod, holidays: frozenset[date] | None = None
) -> date:
    """The last day of `period` counted from `start`."""
    match period.unit:
        case "business_days":
            return business_days_after(start, period.amount, holidays)
        case "days":
            return start + timedelta(days=period.amount)
        case "years":
            return add_years(start, period.amount)


# --- the deadlines the ledger needs --------------------------------------------------------


def theft_loss_notice_due(discovered_on: date, holidays: frozenset[date] | None = None) -> date:
    """Last day for the written notice to DEA of a theft or significant loss."""
    return period_end(discovered_on, PERIODS["theft_loss_notice"], holidays)


def form_106_due(discovered_on: date) -> date:
    """Last day for DEA Form 106 (45 calendar days; the rule says nothing of weekends)."""
    return period_end(discovered_on, PERIODS["form_106"])


def biennial_inventory_due(previous_inventory_on: date) -> date:
    """The date by which the next biennial inventory must be taken (some states: yearly)."""
    return period_end(previous_inventory_on, PERIODS["biennial_inventory"])


def retain_until(record_dated: date) -> date:
    """The first day a record may be discarded under federal law (state law may say longer)."""
    return period_end(record_dated, PERIODS["record_retention"])
