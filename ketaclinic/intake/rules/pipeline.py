"""The inquiry pipeline's rules, pure: board order, follow-ups, conversion, splitting a name.

No Django import: the services and selectors call these, and they are tested table-driven.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

# The board's columns, in the order an inquiry moves through them. The values are those of
# ``ketaclinic.intake.models.InquiryStatus``.
BOARD_ORDER: Final = (
    "new",
    "contacted",
    "screening_booked",
    "evaluation_booked",
    "evaluated",
    "eligible",
    "not_eligible",
    "declined",
    "closed",
)

# Statuses where intake's work is over: a follow-up on them is never due.
FINISHED: Final = frozenset({"eligible", "not_eligible", "declined", "closed"})

# A conversion makes the person a patient, which is the step before the evaluation: an
# inquiry still before that step moves to "evaluation booked"; a later one keeps its status.
_BEFORE_EVALUATION: Final = frozenset({"new", "contacted", "screening_booked"})

# Lower-case words that belong to the family name that follows them ("Anna van der Berg").
_FAMILY_PARTICLES: Final = frozenset(
    {"al", "bin", "da", "de", "del", "della", "der", "di", "dos", "du", "la", "le", "st", "ten"}
    | {"ter", "van", "von"}
)
_TITLES: Final = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir"})


class FollowUp(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    LATER = "later"


def follow_up_state(follow_up_on: date | None, status: str, today: date) -> FollowUp | None:
    """Whether an inquiry's follow-up is overdue (before today), due (today) or later; None
    when there is none or intake's work on the inquiry is finished."""
    if follow_up_on is None or status in FINISHED:
        return None
    if follow_up_on < today:
        return FollowUp.OVERDUE
    if follow_up_on == today:
        return FollowUp.DUE
    return FollowUp.LATER


def status_after_conversion(status: str) -> str:
    """The inquiry's status once its person has a patient record."""
    return "evaluation_booked" if status in _BEFORE_EVALUATION else status


# What a patient's evaluation and the clinician's decision make of their inquiry's status.
# "deferred" decides nothing; a declined or closed inquiry stays so.
_AFTER_ELIGIBILITY: Final = {
    "evaluated": "evaluated",
    "eligible": "eligible",
    "not_eligible": "not_eligible",
}


def status_after_eligibility(status: str, step: str) -> str:
    """The inquiry's status once its patient is evaluated (``step`` "evaluated") or decided on
    (``step`` a decision: "eligible", "not_eligible", "deferred")."""
    if status in {"declined", "closed"}:
        return status
    return _AFTER_ELIGIBILITY.get(step, status)


@dataclass(frozen=True)
class SplitName:
    given: str
    family: str


def name_split(name: str) -> SplitName:
    """A best guess at given and family name from one free-text name, for staff to check.

    "Family, Given" is read as written; otherwise the last word is the family name, with the
    lower-case particles before it ("van der Berg"); a leading title ("Dr") is dropped. A
    single word is a given name with no family name.
    """
    text = " ".join(name.replace("\x00", " ").split())
    if "," in text:
        family, _, given = text.partition(",")
        return SplitName(given=" ".join(given.split()), family=family.strip())
    words = text.split(" ") if text else []
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    if len(words) <= 1:
        return SplitName(given=words[0] if words else "", family="")
    start = len(words) - 1
    while start > 1 and words[start - 1] in _FAMILY_PARTICLES:
        start -= 1
    return SplitName(given=" ".join(words[:start]), family=" ".join(words[start:]))
