"""API input and output for consent documents, witnessed signatures and signing links."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, StrictInt

from ketaclinic.lib.validation import PersonName100


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
    signed_name: PersonName100


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
