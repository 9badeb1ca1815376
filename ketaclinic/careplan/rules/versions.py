"""Versions of a care plan: a draft is edited, a signed version never changes, editing again
starts a new draft from the last signed version. What a plan needs before it is signed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ketaclinic.careplan.rules.safety_plan import missing_sections


class VersionStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class VersionLocked(Exception):
    """A signed version is frozen: any change is a new draft."""


def may_edit(status: VersionStatus) -> bool:
    return status is VersionStatus.DRAFT


def require_editable(status: VersionStatus) -> None:
    if not may_edit(status):
        raise VersionLocked("a signed care plan version never changes; start a new draft")


def next_number(existing: list[int]) -> int:
    """Versions count from 1, one more than the highest so far."""
    return max(existing, default=0) + 1


@dataclass(frozen=True)
class SignCheck:
    problems: int
    goals: int
    review_on: date | None
    safety_plan: dict[str, list[str]]


def sign_refusals(check: SignCheck, today: date) -> list[str]:
    """Why a draft may not be signed yet (empty: it may)."""
    reasons: list[str] = []
    if check.problems == 0:
        reasons.append("Write at least one problem, in the patient's words.")
    if check.goals == 0:
        reasons.append("Write at least one goal with its measure.")
    if check.review_on is None:
        reasons.append("Set a review date.")
    elif check.review_on <= today:
        reasons.append("The review date must be after today.")
    for title in missing_sections(check.safety_plan):
        reasons.append(f"Crisis plan: fill in {title}.")
    return reasons


def review_due(review_on: date | None, today: date) -> bool:
    """The staff patient page shows "care plan review due" once the review date has passed."""
    return review_on is not None and review_on < today
