"""API input and output for protocols, courses, dose orders, chairs, bookings and presence."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal
from uuid import UUID

from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from ketaclinic.lib.validation import IsoDate, Name100, Text100, checked_text


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Reason = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_no_nul),
    checked_text("free"),
]
"""Required free text (a reason, a rationale): white space alone is refused."""


def _positive_number(value: object) -> Decimal:
    # JSON numbers only: text and booleans are refused, floats are read via their shortest
    # decimal form so that 0.3 is 0.3, not 0.299999...
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("must be a number") from exc
    if not number.is_finite() or number <= 0:
        raise ValueError("must be a number above zero")
    if number >= 10_000:
        raise ValueError("must be below 10000")
    if number != number.quantize(Decimal("0.0001")):
        raise ValueError("must have at most 4 decimal places")
    return number


PositiveAmount = Annotated[Decimal, BeforeValidator(_positive_number)]


def _aware_datetime(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date and time with a UTC offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date and time with a UTC offset") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must include a UTC offset, e.g. 2026-01-05T09:30:00+01:00")
    return moment


AwareDateTime = Annotated[datetime, BeforeValidator(_aware_datetime)]


def _hh_mm(value: object) -> time:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError("must be a time written HH:MM")
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be a time written HH:MM") from exc


ClockTime = Annotated[time, BeforeValidator(_hh_mm)]


class ProtocolOut(Schema):
    id: int
    code: str
    name: str
    medication: str
    route: str
    mg_per_kg: float | None
    fixed_dose_mg: float | None
    infusion_minutes: int | None
    max_dose_mg: float
    version: int


class CourseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    protocol: StrictInt


class RefusedOut(Schema):
    detail: str
    reasons: list[str]


class CourseOut(Schema):
    id: UUID
    patient_id: UUID
    protocol_id: int
    phase: str
    status: str
    status_reason: str
    started_at: datetime
    ended_at: datetime | None


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class PhaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    phase: Literal["induction", "maintenance"]
    reason: Reason


class DoseOrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mg_per_kg: PositiveAmount | None = None
    fixed_mg: PositiveAmount | None = None
    rationale: Reason


class DoseOrderOut(Schema):
    id: int
    course_id: UUID
    mg_per_kg: float | None
    fixed_mg: float | None
    rationale: str
    ordered_at: datetime


class OpeningWindowIn(Schema):
    model_config = ConfigDict(extra="forbid")

    weekday: Annotated[StrictInt, Field(ge=0, le=6, description="0 is Monday, 6 is Sunday")]
    opens: ClockTime
    closes: ClockTime

    @model_validator(mode="after")
    def _closes_after_opens(self) -> OpeningWindowIn:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self

    def stored(self) -> dict[str, object]:
        return {
            "weekday": self.weekday,
            "opens": self.opens.strftime("%H:%M"),
            "closes": self.closes.strftime("%H:%M"),
        }


class ChairIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name100
    room: Text100 = ""
    opening_hours: list[OpeningWindowIn] = Field(default_factory=list, max_length=70)


class ChairOut(Schema):
    id: int
    name: str
    room: str
    opening_hours: list[dict[str, object]]


class SessionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: AwareDateTime
    chair: Name100


class SessionOut(Schema):
    id: UUID
    course_id: UUID
    chair: str
    phase: str
    start: datetime
    chair_until: datetime
    status: str

    @staticmethod
    def resolve_chair(obj: object) -> str:
        return str(obj.chair.name)  # type: ignore[attr-defined]


class PresenceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    clinician: Name100
    """The clinician's username."""
    date: IsoDate
    from_time: ClockTime
    to_time: ClockTime


class PresenceOut(Schema):
    id: int
    clinician: str
    date: date
    from_time: time
    to_time: time

    @staticmethod
    def resolve_clinician(obj: object) -> str:
        return str(obj.clinician.username)  # type: ignore[attr-defined]


class SeriesProposalIn(Schema):
    model_config = ConfigDict(extra="forbid")

    chair: Name100
    first_start: AwareDateTime
    count: Annotated[StrictInt, Field(ge=1, le=30)] | None = None
    """How many sessions; by default what the protocol still allows in the course's phase."""


class SkippedOut(Schema):
    start: datetime
    reason: str


class SeriesProposalOut(Schema):
    starts: list[datetime]
    skipped: list[SkippedOut]
    problems: list[str]


class SeriesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    chair: Name100
    starts: list[AwareDateTime] = Field(min_length=1, max_length=30)


class RescheduleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: AwareDateTime
    chair: Name100
    reason: Reason


class IntervalOut(Schema):
    start: datetime
    end: datetime


class SlotOut(Schema):
    start: datetime
    prescriber_on_site: bool


class ChairSlotsOut(Schema):
    chair: str
    open: list[IntervalOut]
    free: list[IntervalOut]
    slots: list[SlotOut]


class FreeSlotsOut(Schema):
    date: date
    session_minutes: int
    chairs: list[ChairSlotsOut]
