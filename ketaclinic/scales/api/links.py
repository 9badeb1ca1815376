"""``POST /api/v1/patients/{id}/links``: a single-use questionnaire link for a patient.

The answer holds the link's URL, once; only the token's hash is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StrictInt

from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales import links
from ketaclinic.scales.schemas import InstrumentCode

router = Router(tags=["scales"])


class LinkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    instruments: list[InstrumentCode] = Field(min_length=1, max_length=20)
    hours: Annotated[StrictInt, Field(ge=1, le=links.MAX_HOURS)] = links.DEFAULT_HOURS


class LinkOut(Schema):
    url: str
    instruments: list[str]
    expires_at: datetime


@router.post(
    "/patients/{uuid:patient_id}/links",
    response={201: LinkOut},
    url_name="patient_links",
)
def link_create(request: HttpRequest, patient_id: UUID, payload: LinkIn) -> Status[LinkOut]:
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    issued = links.patient_link_create(
        acting_user=request.user,
        patient=patient,
        instrument_codes=payload.instruments,
        hours=payload.hours,
    )
    url = request.build_absolute_uri(reverse("scales:answer", kwargs={"token": issued.token}))
    return Status(
        201,
        LinkOut(url=url, instruments=issued.link.instruments, expires_at=issued.link.expires_at),
    )
