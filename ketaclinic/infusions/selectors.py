"""Reads of session charts and the chair board: access checked, rows preloaded, reads audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionAlert,
    SessionStatus,
    VitalsReading,
)
from ketaclinic.infusions.rules import vitals_panels
from ketaclinic.infusions.rules.history import alert_rank
from ketaclinic.infusions.services import session_protocol
from ketaclinic.lib.compiled_read import CompiledRead, Slot

ACTIVE = (SessionStatus.CHECKED_IN, SessionStatus.INFUSING, SessionStatus.RECOVERY)


def _parse(session_id: UUID | str) -> UUID | None:
    if isinstance(session_id, UUID):
        return session_id
    try:
        return UUID(str(session_id))
    except ValueError:
        return None


_SESSION = CompiledRead(
    lambda: (
        Session.objects.filter(pk=Slot("session", models.UUIDField()))
        .select_related("course__protocol", "course__patient", "chair")
        .order_by()
    )
)


def _chairs() -> Any:
    from ketaclinic.courses.models import Chair

    return Chair.objects.order_by("name")


_CHAIRS = CompiledRead(_chairs)


def session_get_for_user(
    user: Any, session_id: UUID | str, *, permission: str = "session.view", audit: bool = True
) -> Session:
    """The session, if the user may see charts; else PermissionDenied, or DoesNotExist (404)."""
    require(user, permission)
    pk = _parse(session_id)
    if pk is None:
        raise Session.DoesNotExist
    found = _SESSION.objects(session=pk)
    if not found:
        raise Session.DoesNotExist
    session: Session = found[0]
    if audit:
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
    stopped_at: datetime | None = None


@dataclass
class BoardData:
    """What the board's rows are built from, read in a fixed number of queries; a page that
    needs more of the same tables (Today) asks for it here, in the same queries."""

    sessions: list[Session]
    """The active sessions and those the read's `also` asked for, in chair name and start
    order."""
    rows: list[BoardRow]
    """The active sessions' rows."""
    vitals: list[VitalsReading]
    """The active sessions' last readings, in time order."""
    entries: list[ChartEntry]
    """Check-in, start and stop of every session read, and the read's `kinds_also` (by time)."""


BOARD_KINDS = (ChartEntryKind.CHECK_IN, ChartEntryKind.INFUSION_START, ChartEntryKind.INFUSION_STOP)


def _wanted(also: Q | None) -> Q:
    return Q(status__in=ACTIVE) if also is None else Q(status__in=ACTIVE) | also


def board_sessions(
    *, also: Q | None = None, annotations: dict[str, Any] | None = None
) -> QuerySet[Session]:
    """The board's sessions read (`board_data`'s first query): the active sessions and those
    `also` asks for, with the `annotations`. The sessions are picked in a subquery and joined
    to their course, patient, protocol and chair by primary key: joined directly to the
    bitmap scan of the sessions, PostgreSQL hashed the whole course table on every request
    (2.3 ms of 3.2 at scale 1; 0.4 ms this way). Callers compile it (`BoardRead`)."""
    picked = Session.objects.filter(_wanted(also)).values("pk")
    return (
        Session.objects.filter(pk__in=picked)
        .select_related("course__protocol", "course__patient", "chair")
        .annotate(**(annotations or {}))
        .order_by("chair__name", "start")
    )


def _last_readings() -> QuerySet[VitalsReading]:
    last = Subquery(
        VitalsReading.objects.filter(session=OuterRef("pk")).order_by("-at", "-pk").values("pk")[:1]
    )
    active = Session.objects.filter(status__in=ACTIVE).annotate(last=last).values("last")
    return VitalsReading.objects.filter(pk__in=active).order_by("at", "pk")


# The same for every board: they read the active sessions' (lib/compiled_read.py).
_LAST_READINGS = CompiledRead(_last_readings)
_OPEN_ALERTS = CompiledRead(
    lambda: SessionAlert.objects.filter(
        session__status__in=ACTIVE, acknowledged_at__isnull=True
    ).order_by("raised_at", "pk")
)


class BoardRead:
    """A board's sessions read and its chart entries read, each compiled once per process
    (lib/compiled_read.py): the active sessions and those `also` asks for (a `Q` on the
    session, its changing values `Slot`s), with the `annotations`; their check-in, start and
    stop entries and the `kinds_also`. The entries are picked by the same condition in a
    subquery, so no list of ids is sent and no query is built per request."""

    def __init__(
        self,
        *,
        also: Q | None = None,
        annotations: dict[str, Any] | None = None,
        kinds_also: tuple[str, ...] = (),
    ) -> None:
        kinds = [*BOARD_KINDS, *kinds_also]
        self.sessions = CompiledRead(lambda: board_sessions(also=also, annotations=annotations))
        self.entries = CompiledRead(
            lambda: ChartEntry.objects.filter(
                session__in=Session.objects.filter(_wanted(also)).values("pk"), kind__in=kinds
            ).order_by("at", "pk")
        )


_ACTIVE = BoardRead()


def board_data(
    *, now: datetime, read: BoardRead = _ACTIVE, values: dict[str, Any] | None = None
) -> BoardData:
    """Four queries: the sessions (the `read`'s, run with `values`; by default the active
    ones), the active sessions' last readings, their open alerts, the chart's entries."""
    values = values or {}
    sessions: list[Session] = read.sessions.objects(**values)
    active = [s for s in sessions if s.status in ACTIVE]
    vitals_rows: list[VitalsReading] = _LAST_READINGS.objects()
    last = {v.session_id: v for v in vitals_rows}
    alerts: dict[UUID, list[SessionAlert]] = {}
    for alert in _OPEN_ALERTS.objects():
        alerts.setdefault(alert.session_id, []).append(alert)
    entries: list[ChartEntry] = read.entries.objects(**values)
    events: dict[UUID, dict[str, datetime]] = {}
    for entry in entries:
        if entry.kind in BOARD_KINDS:
            events.setdefault(entry.session_id, {})[entry.kind] = entry.at
    rows = [
        _board_row(session, events.get(session.pk, {}), last.get(session.pk), alerts, now)
        for session in active
    ]
    return BoardData(sessions=sessions, rows=rows, vitals=vitals_rows, entries=entries)


def _board_row(
    session: Session,
    seen: dict[str, datetime],
    last: VitalsReading | None,
    alerts: dict[UUID, list[SessionAlert]],
    now: datetime,
) -> BoardRow:
    protocol = session_protocol(session)
    started = seen.get(ChartEntryKind.INFUSION_START)
    stopped = seen.get(ChartEntryKind.INFUSION_STOP)
    minutes = None
    if started is not None:
        minutes = int(((stopped or now) - started).total_seconds() // 60)
    due = None
    if session.status != SessionStatus.CHECKED_IN:
        interval = (
            protocol.monitoring.vitals_interval_dosing_minutes.value
            if session.status == SessionStatus.INFUSING
            else protocol.monitoring.vitals_interval_recovery_minutes.value
        )
        since = max(last.at, started) if last and started else (last.at if last else started)
        due = since + timedelta(minutes=interval) if since else None
    return BoardRow(
        session=session,
        minutes_infusing=minutes,
        last_vitals=last,
        open_alerts=alerts.get(session.pk, []),
        next_vitals_due=due,
        overdue=due is not None and due < now,
        stopped_at=stopped,
    )


def board_rows(user: Any, *, now: datetime | None = None, audit: bool = True) -> list[BoardRow]:
    """Every active session (checked in, infusing, in recovery), in a fixed number of queries."""
    require(user, "session.view")
    rows = board_data(now=now or timezone.now()).rows
    if audit and rows:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[
                AuditTarget("Session", str(r.session.pk), r.session.course.patient_id) for r in rows
            ],
        )
    return rows


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


CHART_EVENTS = (
    ChartEntryKind.INFUSION_START,
    ChartEntryKind.RATE_CHANGE,
    ChartEntryKind.PAUSE,
    ChartEntryKind.RESUME,
    ChartEntryKind.INFUSION_STOP,
    ChartEntryKind.SIDE_EFFECT,
    ChartEntryKind.DISCHARGE,
)


def vitals_chart_data(
    session: Session, snapshot: dict[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """The JSON the chart page plots: one panel per scale (`rules.vitals_panels`), each with
    the protocol's thresholds, the chart's events, and one time axis in the clinic's zone."""
    protocol = session_protocol(session)
    now = now or timezone.now()
    readings = snapshot["vitals"]
    at_ms = {i: _ms(v["at"]) for i, v in enumerate(readings)}
    thresholds = [
        vitals_panels.ThresholdLine(t.field.value, t.comparator.value, t.value, predose)
        for predose, group in ((True, protocol.predose_holds), (False, protocol.alerts))
        for t in group
    ]
    events = [
        {"x": _ms(e["at"]), "label": ChartEntryKind(e["kind"]).label}
        for e in snapshot["entries"]
        if e["kind"] in CHART_EVENTS
    ]
    moments: list[int] = [*at_ms.values(), *(int(str(e["x"])) for e in events)]
    if session.status in ACTIVE:
        moments.append(int(now.timestamp() * 1000))
    x_min, x_max, x_step = vitals_panels.time_axis(moments, now_ms=int(now.timestamp() * 1000))
    return {
        "zone": str(timezone.get_current_timezone()),
        "x_min": x_min,
        "x_max": x_max,
        "x_step": x_step,
        "panels": vitals_panels.panels(readings, thresholds, at_ms=at_ms),
        "events": events,
        "count": len(readings),
    }


@dataclass(frozen=True)
class InfusionTimer:
    """The header's clock: counts from the infusion's start (or, in recovery, from its stop)."""

    label: str
    since: datetime
    planned_minutes: int | None
    """The dose's infusion time, for "of 40 min"."""
    until: datetime | None
    """In recovery: the earliest discharge by the protocol's observation time."""


def infusion_timer(
    snapshot: dict[str, Any], protocol: Any, *, now: datetime
) -> InfusionTimer | None:
    entries = snapshot["entries"]
    start = next((e for e in entries if e["kind"] == ChartEntryKind.INFUSION_START), None)
    stop = next((e for e in reversed(entries) if e["kind"] == ChartEntryKind.INFUSION_STOP), None)
    done = any(e["kind"] == ChartEntryKind.DISCHARGE for e in entries)
    doses = snapshot["doses"]
    planned = doses[-1]["infusion_minutes"] if doses else None
    if start is None or done:
        return None
    if stop is None:
        return InfusionTimer("Infusing for", _when(start["at"]), planned, None)
    stopped = _when(stop["at"])
    minimum = protocol.discharge.min_observation_minutes.value
    return InfusionTimer("In recovery for", stopped, None, stopped + timedelta(minutes=minimum))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class KnownBeforeDose:
    """What the system already knows for the pre-checks, so that nobody types it again."""

    weight_kg: Decimal | None
    """The patient's latest recorded weight (this session's or an earlier one's pre-checks)."""
    weight_measured_at: datetime | None
    session_weight_kg: Decimal | None
    """This session's pre-checks weight: the dose form starts with it."""
    consent_missing: list[str]
    """Required consent documents (current version) the patient has not signed."""
    questionnaires_open: list[str]
    """Pre-dose questionnaires the patient's schedules ask for and that are unanswered."""

    @property
    def weight_text(self) -> str:
        """As typed: 68.4, not 68.40."""
        return "" if self.weight_kg is None else format(self.weight_kg.normalize(), "f")


def prechecks_known(session: Session, *, at: datetime) -> KnownBeforeDose:
    """In a fixed number of queries: the latest weight, consent, questionnaires."""
    from ketaclinic.consent.services import consent_missing
    from ketaclinic.infusions.services import questionnaire_problems

    patient = session.course.patient
    latest = (
        ChartEntry.objects.filter(
            session__course__patient_id=patient.pk, kind=ChartEntryKind.PRECHECKS
        )
        .order_by("-at", "-pk")
        .first()
    )
    data = json.loads(latest.data_json) if latest else {}
    weight = Decimal(str(data["weight_kg"])) if data.get("weight_kg") is not None else None
    measured = data.get("weight_measured_at")
    return KnownBeforeDose(
        weight_kg=weight,
        weight_measured_at=timezone.localtime(datetime.fromisoformat(measured))
        if measured
        else None,
        session_weight_kg=weight
        if latest is not None and latest.session_id == session.pk
        else None,
        consent_missing=[
            f"{document.title} (version {document.version})"
            for document in consent_missing(patient)
        ],
        questionnaires_open=questionnaire_problems(session, at=at),
    )


@dataclass
class ChairTile:
    """One chair on the nurses' station board: who is in it and how far along, or that it is
    empty, and who is booked into it next today."""

    chair: Any
    row: BoardRow | None
    """The active session in the chair (checked in, infusing, in recovery), if any."""
    booked_next: Session | None
    """The next session booked into the chair today that has not arrived yet."""
    dose: DoseCheck | None
    minutes_left: int | None
    """Infusing: the dose's infusion time less the minutes since the start (not below 0)."""
    recovery_minutes: int | None
    discharge_from: datetime | None
    """In recovery: the earliest discharge by the protocol's minimum observation time."""
    alerts: list[SessionAlert]
    """The open alerts, worst first (stop, pause, call the prescriber, ...), newest first."""

    @property
    def state(self) -> str:
        if self.row is None:
            return "booked" if self.booked_next is not None else "empty"
        return str(self.row.session.status)

    @property
    def session(self) -> Session | None:
        return self.row.session if self.row else self.booked_next

    @property
    def worst_alert(self) -> SessionAlert | None:
        return self.alerts[0] if self.alerts else None

    @property
    def more_alerts(self) -> int:
        return max(0, len(self.alerts) - 1)

    discharge_ready: bool = False
    """In recovery: the minimum observation time has passed (Aldrete and escort are the
    nurse's to check at discharge)."""


def _worst_first(alerts: list[SessionAlert]) -> list[SessionAlert]:
    newest = sorted(alerts, key=lambda a: (a.raised_at, a.pk), reverse=True)
    return sorted(newest, key=lambda a: alert_rank(a.actions))


# The board's reads (lib/compiled_read.py): the active sessions and today's bookings; the
# active sessions' dose calculations.
_ACTIVE_AND_BOOKED = BoardRead(
    also=Q(
        status=SessionStatus.SCHEDULED,
        start__gte=Slot("day_start", models.DateTimeField()),
        start__lt=Slot("day_end", models.DateTimeField()),
    )
)
_ACTIVE_DOSES = CompiledRead(
    lambda: DoseCheck.objects.filter(session__status__in=ACTIVE).order_by("calculated_at", "pk")
)


def chair_tiles(user: Any, *, now: datetime | None = None, audit: bool = True) -> list[ChairTile]:
    """Every chair, in name order, in a fixed number of queries whatever the history."""

    require(user, "session.view")
    now = now or timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    data = board_data(
        now=now,
        read=_ACTIVE_AND_BOOKED,
        values={"day_start": day_start, "day_end": day_start + timedelta(days=1)},
    )
    rows = data.rows
    by_chair: dict[int, BoardRow] = {}
    for row in rows:
        by_chair.setdefault(row.session.chair_id, row)
    booked: dict[int, Session] = {}
    for session in sorted(data.sessions, key=lambda s: s.start):
        if session.status == SessionStatus.SCHEDULED:
            booked.setdefault(session.chair_id, session)
    doses: dict[UUID, DoseCheck] = {}
    for dose in _ACTIVE_DOSES.objects():  # in time order: the latest wins
        doses[dose.session_id] = dose
    tiles = []
    for chair in _CHAIRS.objects():
        found = by_chair.get(chair.pk)
        dose_found = doses.get(found.session.pk) if found else None
        minutes_left = recovery = None
        discharge_from = None
        if found is not None and found.session.status == SessionStatus.INFUSING:
            planned = dose_found.infusion_minutes if dose_found else None
            if planned is not None and found.minutes_infusing is not None:
                minutes_left = max(0, planned - found.minutes_infusing)
        stopped = found.stopped_at if found else None
        if found is not None and found.session.status == SessionStatus.RECOVERY and stopped:
            recovery = int((now - stopped).total_seconds() // 60)
            minimum = session_protocol(found.session).discharge.min_observation_minutes.value
            discharge_from = stopped + timedelta(minutes=minimum)
        tiles.append(
            ChairTile(
                chair=chair,
                row=found,
                booked_next=booked.get(chair.pk),
                dose=dose_found,
                minutes_left=minutes_left,
                recovery_minutes=recovery,
                discharge_from=discharge_from,
                alerts=_worst_first(found.open_alerts) if found else [],
                discharge_ready=discharge_from is not None and discharge_from <= now,
            )
        )
    if audit:
        targets = [
            AuditTarget("Session", str(t.session.pk), t.session.course.patient_id)
            for t in tiles
            if t.session is not None
        ]
        if targets:
            audit_record_many(actor=user, action=Action.READ, targets=targets)
    return tiles


@dataclass(frozen=True)
class MonitorBatch:
    """The bedside monitor's readings awaiting a nurse's confirmation, oldest first, and the
    last id shown (a confirmation covers what the nurse saw, not what arrived since)."""

    readings: list[VitalsReading]
    up_to: int | None


def monitor_batch(session: Session, vitals: list[VitalsReading] | None = None) -> MonitorBatch:
    """From the session's readings in time order when the caller has read them all (the
    chart page), else in one query."""
    if vitals is not None:
        rows = [
            v for v in vitals if v.source == "monitor" and v.confirmed_at is None and not v.artefact
        ][:200]
        return MonitorBatch(readings=rows, up_to=max((r.pk for r in rows), default=None))
    rows = list(
        VitalsReading.objects.filter(
            session=session, source="monitor", confirmed_at__isnull=True, artefact=False
        ).order_by("at", "pk")[:200]
    )
    return MonitorBatch(readings=rows, up_to=max((r.pk for r in rows), default=None))
