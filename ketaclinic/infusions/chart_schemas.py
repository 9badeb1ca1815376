"""API input and output for the session chart. Inputs are strict: unknown fields, text for
numbers and numbers for text are refused; decimals are read from their shortest decimal form."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt

from ketaclinic.courses.schemas import AwareDateTime, PositiveAmount
from ketaclinic.lib.validation import Text100, Text500, Text5000

Reason = Annotated[Text5000, Field(max_length=2000)]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class RefusedOut(Schema):
    detail: str
    reasons: list[str]


class SessionStateOut(Schema):
    id: str
    status: str


class PreChecksIn(StrictIn):
    identity_confirmed: StrictBool
    consent_current: StrictBool
    fasting: StrictBool
    escort_confirmed: StrictBool
    pregnancy_test: Literal["negative", "positive", "not_applicable"]
    questionnaires_done: StrictBool
    weight_kg: PositiveAmount
    weight_measured_at: AwareDateTime


class PreChecksOut(Schema):
    complete: bool
    problems: list[str]


class ReasonIn(StrictIn):
    reason: Reason = Field(min_length=1)


class AcknowledgeIn(StrictIn):
    """What was done; required for an alert whose actions stop or pause the infusion or call
    the prescriber (the service says so, 422 on `note`)."""

    note: Reason = ""


class DoseIn(StrictIn):
    """Weight for a per-kg dose; concentration for a dose drawn up from a vial (not for a
    nasal device); a bag only for an infusion."""

    weight_kg: PositiveAmount | None = None
    concentration_mg_per_ml: PositiveAmount | None = None
    bag_volume_ml: PositiveAmount | None = None
    override_reason: Reason = ""


class DoseOut(Schema):
    id: int
    dose_mg: Decimal
    drug_volume_ml: Decimal | None
    infusion_minutes: int | None
    rate_ml_per_h: Decimal | None
    above_maximum: bool
    max_single_dose_mg: Decimal
    working: list[str]
    second_checked_by: str | None


class SecondCheckIn(StrictIn):
    username: Text100
    password: Annotated[str, Field(min_length=1, max_length=200)]
    totp: Annotated[str, Field(max_length=12)] = ""


class InfusionEventIn(StrictIn):
    action: Literal["rate_change", "pause", "resume"]
    reason: Reason = Field(min_length=1)
    rate_ml_per_h: PositiveAmount | None = None


class StopIn(StrictIn):
    administered_volume_ml: PositiveAmount | None = None
    reason: Reason = ""


class StopOut(SessionStateOut):
    administered_volume_ml: Decimal | None
    administered_mg: Decimal | None


Vital = Annotated[StrictInt, Field(ge=-1000, le=10_000)]


class VitalsIn(StrictIn):
    at: AwareDateTime
    systolic: Vital
    diastolic: Vital
    heart_rate: Vital
    spo2: Vital
    resp_rate: Vital
    moaas: Vital | None = None


class AlertOut(Schema):
    id: int
    code: str
    field: str
    value: int
    threshold: str
    recommended_action: str
    actions: list[str]
    message: str
    source: str
    acknowledged: bool
    acknowledged_by: str | None = None
    acknowledgement_note: str = ""


class VitalsOut(Schema):
    id: int
    at: datetime
    hold: bool
    alerts: list[AlertOut]


class SideEffectIn(StrictIn):
    at: AwareDateTime
    effect: Literal[
        "nausea",
        "vomiting",
        "headache",
        "dizziness",
        "anxiety",
        "hypertension",
        "emergence_reaction",
        "other",
    ]
    severity: Literal["mild", "moderate", "severe"]
    intervention: Text500 = ""
    drug: Text100 = ""
    drug_dose: Text100 = ""
    note: Text500 = ""


class AssessmentIn(StrictIn):
    at: AwareDateTime
    instrument: Literal["cadss", "dissociation_0_4", "moaas"]
    score: StrictInt


class EntryOut(Schema):
    id: int
    kind: str
    at: datetime


class DischargeIn(StrictIn):
    aldrete: StrictInt
    escort_present: StrictBool
    instructions_given: StrictBool
    override_reason: Reason = ""


class AddendumIn(StrictIn):
    text: Text5000 = Field(min_length=1)


class AddendumOut(Schema):
    id: int
    text: str
    record_sha256: str
    author: str
    at: datetime


class ChartOut(Schema):
    id: str
    status: str
    record: dict[str, object]
    signed_sha256: str | None
    verified: bool | None
    addenda: list[AddendumOut]
    rems: dict[str, object] | None
