"""Reads of session charts and the chair board: access checked, rows preloaded, reads audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    Session,
    SessionAlert,
    SessionStatus,
    VitalsReading,
)
from ketaclinic.infusions.services import session_protocol

ACTIVE = (SessionStatus.CHECKED_IN, SessionStatus.INFUSING, SessionStatus.RECOVERY)


def _parse(session_id: UUID | str) -> UUID | None:
    if isinstance(session_id, UUID):
        return session_id
    try:
        return UUID(str(session_id))
    except ValueError:
        return None


def session_get_for_user(
    user: Any, session_id: UUID | str, *, permission: str = "session.view", audit: bool = True
) -> Session:
    """The session, if the user may see charts; else PermissionDenied, or DoesNotExist (404)."""
    require(user, permission)
    pk = _parse(session_id)
    if pk is None:
        raise Session.DoesNotExist
    session = Session.objects.select_related("course__protocol", "course__patient", "chair").get(
        pk=pk
    )
    if audit:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Session", str(session.pk), session.course.patient_id)],
            )
    return session


@dataclass
class BoardRow:
    session: Session
    minutes_infusing: int | None
    last_vitals: VitalsReading | None
    open_alerts: list[SessionAlert]
    next_vitals_due: datetime | None
    overdue: bool


def board_rows(user: Any, *, now: datetime | None = None, audit: bool = True) -> list[BoardRow]:
    """Every active session (checked in, infusing, in recovery), in a fixed number of queries."""
    require(user, "session.view")
    now = now or timezone.now()
    sessions = list(
        Session.objects.filter(status__in=ACTIVE)
        .select_related("course__protocol", "course__patient", "chair")
        .annotate(
            last_vitals_id=Subquery(
                VitalsReading.objects.filter(session=OuterRef("pk"))
                .order_by("-at", "-pk")
                .values("pk")[:1]
            )
        )
        .order_by("chair__name", "start")
    )
    ids = [s.pk for s in sessions]
    vitals = {
        v.pk: v
        for v in VitalsReading.objects.filter(
            pk__in=[getattr(s, "last_vitals_id", None) for s in sessions]
        )
    }
    alerts: dict[UUID, list[SessionAlert]] = {}
    for alert in SessionAlert.objects.filter(session_id__in=ids, acknowledged_at__isnull=True):
        alerts.setdefault(alert.session_id, []).append(alert)
    events: dict[UUID, dict[str, datetime]] = {}
    for entry in ChartEntry.objects.filter(
        session_id__in=ids,
        kind__in=[
            ChartEntryKind.CHECK_IN,
            ChartEntryKind.INFUSION_START,
            ChartEntryKind.INFUSION_STOP,
        ],
    ).order_by("at"):
        events.setdefault(entry.session_id, {})[entry.kind] = entry.at
    rows = []
    for session in sessions:
        protocol = session_protocol(session)
        seen = events.get(session.pk, {})
        started = seen.get(ChartEntryKind.INFUSION_START)
        stopped = seen.get(ChartEntryKind.INFUSION_STOP)
        minutes = None
        if started is not None:
            minutes = int(((stopped or now) - started).total_seconds() // 60)
        last = vitals.get(getattr(session, "last_vitals_id", None) or -1)
        due = None
        if session.status != SessionStatus.CHECKED_IN:
            interval = (
                protocol.monitoring.vitals_interval_dosing_minutes.value
                if session.status == SessionStatus.INFUSING
                else protocol.monitoring.vitals_interval_recovery_minutes.value
            )
            since = max(last.at, started) if last and started else (last.at if last else started)
            due = since + timedelta(minutes=interval) if since else None
        rows.append(
            BoardRow(
                session=session,
                minutes_infusing=minutes,
                last_vitals=last,
                open_alerts=alerts.get(session.pk, []),
                next_vitals_due=due,
                overdue=due is not None and due < now,
            )
        )
    if audit and rows:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[
                    AuditTarget("Session", str(r.session.pk), r.session.course.patient_id)
                    for r in rows
                ],
            )
    return rows


def vitals_chart_data(session: Session, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The JSON the chart page plots: vitals over time, the protocol's thresholds and events."""
    protocol = session_protocol(session)

    def ms(text: str) -> int:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)

    fields = [
        ("systolic_mmhg", "Systolic (mmHg)"),
        ("diastolic_mmhg", "Diastolic (mmHg)"),
        ("heart_rate_bpm", "Heart rate (/min)"),
        ("spo2_percent", "SpO2 (%)"),
        ("respiratory_rate", "Respiratory rate (/min)"),
        ("moaas", "MOAA/S"),
    ]
    series = [
        {
            "field": field,
            "label": label,
            "points": [
                {"x": ms(v["at"]), "y": v[field]}
                for v in snapshot["vitals"]
                if v[field] is not None
            ],
        }
        for field, label in fields
    ]
    thresholds = [
        {
            "field": t.field.value,
            "value": t.value,
            "label": f"{t.code} {t.comparator.value} {t.value}",
            "predose": predose,
        }
        for predose, group in ((True, protocol.predose_holds), (False, protocol.alerts))
        for t in group
    ]
    events = [
        {"x": ms(e["at"]), "label": ChartEntryKind(e["kind"]).label}
        for e in snapshot["entries"]
        if e["kind"]
        in (
            ChartEntryKind.INFUSION_START,
            ChartEntryKind.RATE_CHANGE,
            ChartEntryKind.PAUSE,
            ChartEntryKind.RESUME,
            ChartEntryKind.INFUSION_STOP,
            ChartEntryKind.SIDE_EFFECT,
            ChartEntryKind.DISCHARGE,
        )
    ]
    return {"series": series, "thresholds": thresholds, "events": events}


@dataclass(frozen=True)
class MonitorBatch:
    """The bedside monitor's readings awaiting a nurse's confirmation, oldest first, and the
    last id shown (a confirmation covers what the nurse saw, not what arrived since)."""

    readings: list[VitalsReading]
    up_to: int | None


def monitor_batch(session: Session) -> MonitorBatch:
    rows = list(
        VitalsReading.objects.filter(
            session=session, source="monitor", confirmed_at__isnull=True, artefact=False
        ).order_by("at", "pk")[:200]
    )
    return MonitorBatch(readings=rows, up_to=max((r.pk for r in rows), default=None))
