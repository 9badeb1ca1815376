from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Schema
from pydantic import ConfigDict, field_validator

from ketaclinic.lib.validation import (
    IsoDate,
    PersonName100,
    Text40,
    Text100,
    Text200,
    Text254,
    Text500,
)

SexAtBirthLiteral = Literal["female", "male", "intersex", "unknown"]


def _not_in_future(value: date | None) -> date | None:
    if value is not None:
        if value > timezone.localdate():
            raise ValueError("must not be in the future")
        if value.year < 1900:
            raise ValueError("must be after 1900")
    return value


class PatientIn(Schema):
    model_config = ConfigDict(extra="forbid")

    given_name: PersonName100
    family_name: PersonName100
    birth_date: IsoDate
    sex_at_birth: SexAtBirthLiteral
    gender_identity: Text100 = ""
    pronouns: Text40 = ""
    email: Text254 = ""
    phone: Text40 = ""
    address: Text500 = ""
    emergency_contact: Text500 = ""
    referring_provider: Text200 = ""

    _birth_date_past = field_validator("birth_date")(_not_in_future)


class PatientPatch(Schema):
    """Only the fields sent are changed. A field sent as null is refused like any wrong type."""

    model_config = ConfigDict(extra="forbid")

    given_name: PersonName100 | None = None
    family_name: PersonName100 | None = None
    birth_date: IsoDate | None = None
    sex_at_birth: SexAtBirthLiteral | None = None
    gender_identity: Text100 | None = None
    pronouns: Text40 | None = None
    email: Text254 | None = None
    phone: Text40 | None = None
    address: Text500 | None = None
    emergency_contact: Text500 | None = None
    referring_provider: Text200 | None = None

    _birth_date_past = field_validator("birth_date")(_not_in_future)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: object) -> object:
        # Leaving a field out keeps it; sending null is a mistake, not a way to erase it.
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


class PatientOut(Schema):
    id: UUID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex_at_birth: str
    gender_identity: str
    pronouns: str
    email: str
    phone: str
    address: str
    emergency_contact: str
    referring_provider: str
    created_at: datetime
    updated_at: datetime


class FlagOut(Schema):
    id: int
    code: str
    title: str
    severity: str
    status: str
    opened_at: datetime
