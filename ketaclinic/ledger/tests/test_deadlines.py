from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.ledger.deadlines import (
    PERIODS,
    add_years,
    biennial_inventory_due,
    business_day_after,
    business_days_after,
    form_106_due,
    is_business_day,
    retain_until,
    theft_loss_notice_due,
    us_federal_holidays,
)

NO_HOLIDAYS: frozenset[date] = frozenset()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 3, 10), date(2025, 3, 11)),  # Monday -> Tuesday
        (date(2025, 3, 14), date(2025, 3, 17)),  # Friday -> Monday
        (date(2025, 3, 15), date(2025, 3, 17)),  # Saturday -> Monday
        (date(2025, 3, 16), date(2025, 3, 17)),  # Sunday -> Monday
    ],
)
def test_business_day_after_skips_weekends(day: date, expected: date) -> None:
    assert business_day_after(day, NO_HOLIDAYS) == expected


def test_business_day_after_skips_given_holidays() -> None:
    clinic_closed = frozenset({date(2025, 3, 17), date(2025, 3, 18)})
    assert business_day_after(date(2025, 3, 14), clinic_closed) == date(2025, 3, 19)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 5, 23), date(2025, 5, 27)),  # Friday before Memorial Day
        (date(2025, 12, 24), date(2025, 12, 26)),  # Christmas
        (date(2026, 7, 2), date(2026, 7, 6)),  # July 4th on Saturday, observed Friday 3rd
        (date(2021, 12, 30), date(2022, 1, 3)),  # New Year 2022 observed Friday 31 Dec 2021
        (date(2025, 11, 26), date(2025, 11, 28)),  # Thanksgiving
    ],
)
def test_business_day_after_defaults_to_us_federal_holidays(day: date, expected: date) -> None:
    assert business_day_after(day) == expected


def test_us_federal_holidays_2025() -> None:
    assert sorted(us_federal_holidays(2025)) == [
        date(2025, 1, 1),
        date(2025, 1, 20),
        date(2025, 2, 17),
        date(2025, 5, 26),
        date(2025, 6, 19),
        date(2025, 7, 4),
        date(2025, 9, 1),
        date(2025, 10, 13),
        date(2025, 11, 11),
        date(2025, 11, 27),
        date(2025, 12, 25),
    ]


def test_observed_new_year_falls_in_the_year_before() -> None:
    assert date(2021, 12, 31) in us_federal_holidays(2021)
    assert date(2022, 1, 1) not in us_federal_holidays(2022)
    assert date(2023, 1, 2) in us_federal_holidays(2023)  # Sunday -> Monday


def test_juneteenth_only_from_2021() -> None:
    assert date(2020, 6, 19) not in us_federal_holidays(2020)
    assert date(2021, 6, 18) in us_federal_holidays(2021)


def test_is_business_day() -> None:
    assert is_business_day(date(2025, 3, 10))
    assert not is_business_day(date(2025, 3, 15))
    assert not is_business_day(date(2025, 7, 4))
    assert is_business_day(date(2025, 7, 4), NO_HOLIDAYS)


def test_business_days_after_counts_several() -> None:
    assert business_days_after(date(2025, 3, 13), 3, NO_HOLIDAYS) == date(2025, 3, 18)
    with pytest.raises(ValueError, match="at least 1"):
        business_days_after(date(2025, 3, 13), 0)


def test_theft_loss_notice_due_the_next_business_day() -> None:
    assert theft_loss_notice_due(date(2025, 7, 3)) == date(2025, 7, 7)


def test_form_106_due_45_days_after_discovery() -> None:
    assert form_106_due(date(2025, 3, 10)) == date(2025, 4, 24)


def test_biennial_inventory_and_retention_two_years() -> None:
    assert biennial_inventory_due(date(2025, 3, 10)) == date(2027, 3, 10)
    assert retain_until(date(2024, 2, 29)) == date(2026, 2, 28)


def test_add_years_leap_day() -> None:
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_every_period_names_its_cfr_source() -> None:
    assert {name: (p.amount, p.unit, p.source) for name, p in PERIODS.items()} == {
        "theft_loss_notice": (1, "business_days", "21 CFR 1301.76(b)"),
        "form_106": (45, "days", "21 CFR 1301.76(b)"),
        "biennial_inventory": (2, "years", "21 CFR 1304.11(c)"),
        "record_retention": (2, "years", "21 CFR 1304.04(a)"),
    }
