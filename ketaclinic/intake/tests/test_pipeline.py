"""The pipeline's pure rules: follow-up states, status after conversion and after eligibility,
and splitting a free-text name into given and family name."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.intake.models import InquiryStatus
from ketaclinic.intake.rules.pipeline import (
    BOARD_ORDER,
    FollowUp,
    SplitName,
    follow_up_state,
    name_split,
    status_after_conversion,
    status_after_eligibility,
)

TODAY = date(2026, 11, 24)


def test_the_board_has_one_column_per_status_in_the_model() -> None:
    assert list(BOARD_ORDER) == InquiryStatus.values


@pytest.mark.parametrize(
    ("follow_up_on", "status", "expected"),
    [
        (None, "new", None),
        (date(2026, 11, 23), "new", FollowUp.OVERDUE),
        (date(2026, 11, 24), "contacted", FollowUp.DUE),
        (date(2026, 11, 25), "contacted", FollowUp.LATER),
        (date(2026, 11, 1), "evaluated", FollowUp.OVERDUE),
        (date(2026, 11, 1), "eligible", None),
        (date(2026, 11, 1), "not_eligible", None),
        (date(2026, 11, 1), "declined", None),
        (date(2026, 11, 1), "closed", None),
    ],
)
def test_follow_up_state(follow_up_on: date | None, status: str, expected: FollowUp | None) -> None:
    assert follow_up_state(follow_up_on, status, TODAY) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("new", "evaluation_booked"),
        ("contacted", "evaluation_booked"),
        ("screening_booked", "evaluation_booked"),
        ("evaluation_booked", "evaluation_booked"),
        ("evaluated", "evaluated"),
        ("declined", "declined"),
    ],
)
def test_status_after_conversion(status: str, expected: str) -> None:
    assert status_after_conversion(status) == expected


@pytest.mark.parametrize(
    ("status", "step", "expected"),
    [
        ("evaluation_booked", "evaluated", "evaluated"),
        ("new", "evaluated", "evaluated"),
        ("evaluated", "eligible", "eligible"),
        ("evaluated", "not_eligible", "not_eligible"),
        ("evaluated", "deferred", "evaluated"),
        ("eligible", "evaluated", "evaluated"),
        ("declined", "eligible", "declined"),
        ("closed", "evaluated", "closed"),
    ],
)
def test_status_after_eligibility(status: str, step: str, expected: str) -> None:
    assert status_after_eligibility(status, step) == expected


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Robin Asker", "Robin", "Asker"),
        ("  Robin   Asker  ", "Robin", "Asker"),
        ("Mary Jane Watson", "Mary Jane", "Watson"),
        ("Anna van der Berg", "Anna", "van der Berg"),
        ("Ludwig von Mises", "Ludwig", "von Mises"),
        ("Asker, Robin", "Robin", "Asker"),
        ("van der Berg, Anna Maria", "Anna Maria", "van der Berg"),
        ("Dr. Robin Asker", "Robin", "Asker"),
        ("Dr Asker", "Asker", ""),
        ("Cher", "Cher", ""),
        ("", "", ""),
        ("José Álvarez", "José", "Álvarez"),
        ("<script>x</script> Asker", "<script>x</script>", "Asker"),
    ],
)
def test_name_split(name: str, given: str, family: str) -> None:
    assert name_split(name) == SplitName(given=given, family=family)
