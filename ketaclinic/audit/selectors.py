from __future__ import annotations

from uuid import UUID

from ketaclinic.audit.models import AuditEvent


def audit_events_filter(
    *,
    patient_id: UUID | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first. The caller has checked that the user may read the audit trail."""
    rows = AuditEvent.objects.all()
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if actor_id is not None:
        rows = rows.filter(actor_id=actor_id)
    if action:
        rows = rows.filter(action=action)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    return list(rows.order_by("-seq")[:limit])
