from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, field_validator

from ketaclinic.lib.validation import Name100, Text40, Text200, Text254, Text5000

ConcernLiteral = Literal["generalized_anxiety", "social_anxiety", "panic_disorder", "ocd", "other"]


class InquiryIn(Schema):
    """An inquiry from the public. `website` is a honeypot: people leave it empty."""

    model_config = ConfigDict(extra="forbid")

    name: Name100
    email: Text254 = ""
    phone: Text40 = ""
    preferred_contact: Literal["email", "phone"] = "email"
    concerns: list[ConcernLiteral] = Field(default_factory=list, max_length=5)
    prior_treatments: Text5000 = ""
    message: Text5000 = ""
    heard_about: Text200 = ""
    consent_to_contact: StrictBool
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


class InquiryReceipt(Schema):
    received: bool
    message: str


class Detail(Schema):
    detail: str
