"""Reads for the monitor pages: the registered monitors (administrators), the unassigned
queue and the sessions a queued message may go to (nurses; the sessions' reads audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.services import CHARTING
from ketaclinic.monitors.feed.parse import MessageRefused, parse_message
from ketaclinic.monitors.feed.vitals import VitalsSet, vitals_sets
from ketaclinic.monitors.models import MessageStatus, MonitorDevice, MonitorMessage

QUEUE_MAX = 100


def devices_for_user(user: Any) -> list[MonitorDevice]:
    require(user, "chair.edit")
    return list(MonitorDevice.objects.select_related("chair").order_by("name", "pk"))


def device_for_user(user: Any, device_id: int) -> MonitorDevice:
    require(user, "chair.edit")
    return MonitorDevice.objects.select_related("chair").get(pk=device_id)


@dataclass(frozen=True)
class QueuedMessage:
    message: MonitorMessage
    sets: list[VitalsSet]
    device: str
    observed_at: datetime | None


def unassigned_for_user(user: Any) -> list[QueuedMessage]:
    """Messages with readings waiting for a nurse, newest first (at most QUEUE_MAX)."""
    require(user, "session.chart")
    rows = list(
        MonitorMessage.objects.filter(status=MessageStatus.UNASSIGNED)
        .select_related("device")
        .order_by("-received_at", "-pk")[:QUEUE_MAX]
    )
    zone = ZoneInfo(settings.TIME_ZONE)
    queued: list[QueuedMessage] = []
    for row in rows:
        try:
            sets = vitals_sets(parse_message(row.raw.encode("utf-8"), default_tz=zone))
        except MessageRefused:
            sets = []
        device = row.device.name if row.device else "an unregistered monitor"
        queued.append(QueuedMessage(row, sets, device, row.observed_at))
    return queued


def assignable_sessions_for_user(user: Any) -> list[Session]:
    """Sessions checked in, infusing or in recovery: where a queued reading may go."""
    require(user, "session.chart")
    sessions = list(
        Session.objects.filter(status__in=CHARTING)
        .select_related("chair", "course__patient")
        .order_by("chair__name", "start")
    )
    if sessions:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Session", str(s.pk), s.course.patient_id) for s in sessions],
        )
    return sessions
