from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator

from ketaclinic.lib.validation import PersonName100, Text40, Text200, Text254, Text5000

ConcernLiteral = Literal["generalized_anxiety", "social_anxiety", "panic_disorder", "ocd", "other"]
SelfScreenCode = Literal["gad7", "phq9"]  # SELF_SCREEN_CODES in intake/self_screen.py
LinkId = Annotated[str, Field(min_length=1, max_length=8)]


class SelfScreenIn(Schema):
    """One self-screen questionnaire: the answers only (weights 0-3 by item link id, "1"-"9").

    Totals and bands are computed by the server; a total sent here is refused (extra field).
    Complete answers are required: the service reports each missing or invalid item.
    """

    model_config = ConfigDict(extra="forbid")

    instrument: SelfScreenCode
    answers: Annotated[dict[LinkId, StrictInt], Field(max_length=20)]


class InquiryIn(Schema):
    """An inquiry from the public. `website` is a honeypot: people leave it empty."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName100
    email: Text254 = ""
    phone: Text40 = ""
    preferred_contact: Literal["email", "phone"] = "email"
    concerns: list[ConcernLiteral] = Field(default_factory=list, max_length=5)
    prior_treatments: Text5000 = ""
    message: Text5000 = ""
    heard_about: Text200 = ""
    consent_to_contact: StrictBool
    self_screen: list[SelfScreenIn] = Field(default_factory=list, max_length=2)
    website: Text200 = ""

    @field_validator("consent_to_contact")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("must be true: we can only answer if you agree to be contacted")
        return value

    @field_validator("concerns")
    @classmethod
    def _concerns_unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a concern is listed twice")
        return value

    @field_validator("self_screen")
    @classmethod
    def _self_screen_unique(cls, value: list[SelfScreenIn]) -> list[SelfScreenIn]:
        codes = [screen.instrument for screen in value]
        if len(set(codes)) != len(codes):
            raise ValueError("a questionnaire is listed twice")
        return value


class InquiryReceipt(Schema):
    received: bool
    message: str


class Detail(Schema):
    detail: str
