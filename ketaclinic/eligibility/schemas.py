"""API input and output for evaluations and decisions.

An evaluation's body is read by the eligibility engine's ``evaluation_from_dict`` (which names
every fault with its field path), so its input schema is an open JSON object here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, StrictStr, StringConstraints

from ketaclinic.lib.validation import checked_text

Rationale = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, max_length=2000), checked_text("free")
]


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


class DetailOut(Schema):
    detail: str
