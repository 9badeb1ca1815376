from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StrictStr, StringConstraints

from ketaclinic.lib.validation import checked_text
from ketaclinic.scales.instruments import BUILTIN_CODES

ModeLiteral = Literal["staff_entry", "patient_self", "kiosk"]
FlagStatusLiteral = Literal["active", "acknowledged", "all"]


def _aware_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time with an offset, as a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"is not an ISO 8601 date and time: {exc}") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must have a time zone offset, e.g. 2026-01-31T09:30:00+01:00")
    return moment


AwareIsoDateTime = Annotated[datetime, BeforeValidator(_aware_datetime)]
"""An aware moment given as an ISO 8601 string with an offset (or Z); numbers are refused."""


def _known_instrument(code: str) -> str:
    if code not in BUILTIN_CODES:
        raise ValueError(f"unknown instrument; one of {', '.join(BUILTIN_CODES)}")
    return code


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; storing one would fail with a DataError (a 500).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


InstrumentCode = Annotated[StrictStr, AfterValidator(_known_instrument)]
LinkId = Annotated[StrictStr, StringConstraints(min_length=1, max_length=40)]


class AdministrationIn(Schema):
    """Answers as ``{link_id: weight}``. The values are checked by the scoring, which reports
    every problem at once (wrong values, missing and skipped items) rather than only types."""

    model_config = ConfigDict(extra="forbid")

    instrument: InstrumentCode
    answers: dict[LinkId, Any] = Field(max_length=200)
    administered_at: AwareIsoDateTime
    mode: ModeLiteral = "staff_entry"


class RaisedFlagOut(Schema):
    code: str
    severity: str
    link_id: str
    message: str


class AdministrationOut(Schema):
    id: UUID
    patient_id: UUID
    instrument: str
    answers: dict[str, int]
    total: int | None
    subscales: dict[str, int]
    band: str
    risk_level: str
    flags: list[RaisedFlagOut]
    administered_at: datetime
    mode: str
    entered_by_id: int
    created_at: datetime


class SafetyFlagOut(Schema):
    id: int
    code: str
    title: str
    severity: str
    status: str
    opened_at: datetime
    source_object_type: str
    source_object_id: str
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    acknowledgement_note: str


class AcknowledgeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[
        StrictStr,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        AfterValidator(_no_nul),
        checked_text("free"),
    ]


class DetailOut(Schema):
    detail: str
