"""API input and output for evaluations, decisions and consent.

An evaluation's body is read by the eligibility engine's ``evaluation_from_dict`` (which names
every fault with its field path), so its input schema is an open JSON object here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, StrictInt, StrictStr, StringConstraints

from ketaclinic.lib.validation import Name100

Rationale = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=2000)]


class ReasonOut(Schema):
    code: str
    kind: str
    text: str
    source: str


class AdequateTrialOut(Schema):
    kind: str
    name: str


class ProposalOut(Schema):
    outcome: str
    reasons: list[ReasonOut]
    rules_version: str
    minimum_doses_version: str
    adequate_trials: list[AdequateTrialOut]


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["eligible", "not_eligible", "deferred"]
    rationale: Rationale = ""


class DecisionOut(Schema):
    id: int
    evaluation: int
    decision: str
    rationale: str
    against_proposal: bool
    decided_by: str
    decided_at: datetime
    digest: str


class EvaluationOut(Schema):
    id: int
    patient: UUID
    created_by: str
    created_at: datetime
    rules_version: str
    evaluation: dict[str, Any]
    proposal: ProposalOut
    decision: DecisionOut | None = None


class ConsentDocumentOut(Schema):
    id: int
    code: str
    version: int
    title: str
    body: str
    effective_from: date
    required: bool
    digest: str


class WitnessedConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    document: StrictInt
    signed_name: Name100


class ConsentSignatureOut(Schema):
    id: int
    patient: UUID
    document: int
    document_code: str
    document_version: int
    document_title: str
    document_digest: str
    signed_name: str
    method: str
    witnessed_by: str | None
    recorded_by: str
    signed_at: datetime
    has_drawn_signature: bool
    digest: str
    pdf_url: str


class ConsentLinkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    documents: list[StrictInt] | None = Field(default=None, max_length=20)
    hours: StrictInt = 72


class ConsentLinkOut(Schema):
    url: str
    expires_at: datetime
    documents: list[int]


class DetailOut(Schema):
    detail: str
