from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ketaclinic.accounts.access import require
from ketaclinic.audit import selectors
from ketaclinic.audit.models import AuditEvent

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    seq: int
    at: datetime
    actor: int | None = Field(None, alias="actor_id")
    actor_role: str
    action: str
    object_type: str
    object_id: str
    object_ids: list[str] = Field(
        default_factory=list,
        description="A page of records read at once (a FHIR search page): their ids; "
        "object_id is then empty.",
    )
    patient_id: UUID | None
    request_id: str
    client_address: str
    hash: str

    @staticmethod
    def resolve_object_ids(event: AuditEvent) -> list[str]:
        return event.object_ids.split()


class AuditFilter(Schema):
    patient: UUID | None = None
    actor: int | None = None
    action: str | None = Field(None, pattern="^[CRUDE]$")
    before_seq: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)


@router.get("", response=list[AuditEventOut], url_name="audit")
def audit_list(request: HttpRequest, filters: Query[AuditFilter]) -> list[AuditEvent]:
    require(request.user, "audit.view")
    return selectors.audit_events_filter(
        patient_id=filters.patient,
        actor_id=filters.actor,
        action=filters.action,
        before_seq=filters.before_seq,
        limit=filters.limit,
    )
