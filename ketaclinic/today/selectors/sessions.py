"""Today's sessions across the chairs, with what the nurse and the clinician need to see on
them: the chair board's facts (alerts, next vitals due), pre-dose holds, second checks waiting,
discharges due. Shared by the nurse's and the clinician's Today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.courses.models import Chair, PrescriberPresence
from ketaclinic.infusions.models import (
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionAlert,
    SessionSignature,
    SessionStatus,
    VitalsReading,
)
from ketaclinic.infusions.rules import monitoring
from ketaclinic.infusions.selectors import ACTIVE, BoardRead, BoardRow, board_data
from ketaclinic.infusions.services import session_protocol
from ketaclinic.lib.compiled_read import CompiledRead, Slot

S = SessionStatus
TILE_STATE = {
    S.SCHEDULED: "booked",
    S.CHECKED_IN: "checked-in",
    S.INFUSING: "infusing",
    S.RECOVERY: "recovery",
}
STATE_WORDS = {
    "empty": "Free",
    "booked": "Booked next",
    "checked-in": "Checked in",
    "infusing": "Infusing",
    "recovery": "In recovery",
}


@dataclass
class SessionFacts:
    session: Session
    row: BoardRow | None = None
    hold: bool = False
    """Baseline vitals hold the dose and no clinician has reviewed them yet."""
    hold_reasons: list[str] = field(default_factory=list)
    second_check_waiting: bool = False
    discharge_due_at: datetime | None = None
    clinician_signature_missing: bool = False
    nurse_signature_missing: bool = False
    prescriber_on_site: bool = False

    @property
    def patient_name(self) -> str:
        patient = self.session.course.patient
        return f"{patient.family_name}, {patient.given_name}"

    @property
    def alerts(self) -> list[SessionAlert]:
        return self.row.open_alerts if self.row else []

    @property
    def discharge_due(self) -> bool:
        return self.discharge_due_at is not None and self.discharge_due_at <= timezone.now()


@dataclass
class ChairTile:
    chair: Chair
    state: str
    facts: SessionFacts | None
    next_facts: SessionFacts | None

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]


@dataclass
class Day:
    today: date
    sessions: list[SessionFacts]
    tiles: list[ChairTile]
    presence: list[PrescriberPresence]

    @property
    def holds(self) -> list[SessionFacts]:
        return [f for f in self.sessions if f.hold]

    @property
    def second_checks(self) -> list[SessionFacts]:
        return [f for f in self.sessions if f.second_check_waiting]

    @property
    def discharges(self) -> list[SessionFacts]:
        rows = [f for f in self.sessions if f.discharge_due_at is not None]
        return sorted(rows, key=lambda f: f.discharge_due_at or f.session.start)

    @property
    def alerts(self) -> list[SessionFacts]:
        return [f for f in self.sessions if f.alerts]

    @property
    def to_sign_clinician(self) -> list[SessionFacts]:
        return [f for f in self.sessions if f.clinician_signature_missing]

    @property
    def to_sign_nurse(self) -> list[SessionFacts]:
        return [f for f in self.sessions if f.nurse_signature_missing]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _on_site(presence: list[PrescriberPresence], at: datetime) -> bool:
    local = timezone.localtime(at).time()
    return any(p.from_time <= local < p.to_time for p in presence)


def day_sessions(
    user: Any, *, now: datetime | None = None, tiles: bool = True, presence: bool = True
) -> Day:
    """Today's sessions (not cancelled), every chair's tile, the prescribers on site: seven
    queries and one audit write, whatever the number of sessions or their history. A page
    that shows no tiles (the clinician's) or nobody's presence (the nurse's) leaves that read
    out (`tiles=False`: no tiles; `presence=False`: no presence, and no session is marked
    with a prescriber on site).

    The day's sessions are read with the board's (`board_data`), in its queries: whether a
    second check waits and who has signed ride along as EXISTS columns, the baselines are the
    last readings, the clinician reviews come with the board's chart entries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = day_bounds(today)
    data = board_data(now=now, read=_DAY_AND_ACTIVE, values={"start": start, "end": end})
    sessions = sorted(
        (s for s in data.sessions if start <= s.start < end and s.status != S.CANCELLED),
        key=lambda s: (s.start, s.chair.name),
    )
    rows = {r.session.pk: r for r in data.rows}
    checked_in = {s.pk for s in sessions if s.status == S.CHECKED_IN}
    # A checked-in session's baseline is its last reading: a reading's phase is its session's
    # state when it was taken, and checked in is the first state that takes readings, so every
    # reading of a session still checked in is a baseline (the phase is checked all the same).
    baselines: dict[UUID, VitalsReading] = {
        reading.session_id: reading
        for reading in data.vitals
        if reading.session_id in checked_in and reading.phase == S.CHECKED_IN
    }
    reviews: dict[UUID, datetime] = {}
    stops: dict[UUID, datetime] = {}
    for entry in data.entries:  # in time order: the latest wins
        if entry.kind == ChartEntryKind.CLINICIAN_REVIEW:
            reviews[entry.session_id] = entry.recorded_at
        elif entry.kind == ChartEntryKind.INFUSION_STOP:
            stops[entry.session_id] = entry.at
    unchecked = {
        s.pk for s in sessions if s.pk in checked_in and getattr(s, "check_waiting", False)
    }
    signed: set[tuple[UUID, str]] = set()
    for s in sessions:
        if getattr(s, "nurse_signed", False):
            signed.add((s.pk, Role.NURSE.value))
        if getattr(s, "clinician_signed", False):
            signed.add((s.pk, Role.CLINICIAN.value))
    on_site: list[PrescriberPresence] = _PRESENCE.objects(today=today) if presence else []
    facts_list: list[SessionFacts] = []
    for session in sessions:
        facts = SessionFacts(session=session, row=rows.get(session.pk))
        baseline = baselines.get(session.pk)
        # The protocol only where its numbers are needed (read once per process and version).
        if baseline is not None:
            protocol = session_protocol(session)
            decision = monitoring.predose_hold(protocol=protocol, vitals=_pure(baseline))
            reviewed_at = reviews.get(session.pk)
            reviewed = reviewed_at is not None and reviewed_at >= baseline.recorded_at
            facts.hold = decision.hold and not reviewed
            facts.hold_reasons = [a.message for a in decision.alerts] if facts.hold else []
        facts.second_check_waiting = session.pk in unchecked
        stopped = stops.get(session.pk)
        if session.status == S.RECOVERY and stopped is not None:
            minutes = session_protocol(session).discharge.min_observation_minutes.value
            facts.discharge_due_at = stopped + timedelta(minutes=minutes)
        if session.status == S.DISCHARGED:
            facts.clinician_signature_missing = (session.pk, Role.CLINICIAN.value) not in signed
            facts.nurse_signature_missing = (session.pk, Role.NURSE.value) not in signed
        facts.prescriber_on_site = _on_site(on_site, session.start)
        facts_list.append(facts)
    chair_tiles = _tiles(_CHAIRS.objects(), facts_list, now) if tiles else []
    if facts_list:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[
                AuditTarget("Session", str(f.session.pk), f.session.course.patient_id)
                for f in facts_list
            ],
        )
    return Day(today=today, sessions=facts_list, tiles=chair_tiles, presence=on_site)


# Compiled once per process (lib/compiled_read.py). The day's sessions are read with the
# board's: whether a second check waits and who has signed ride along as EXISTS columns.
_DAY_AND_ACTIVE = BoardRead(
    also=Q(
        start__gte=Slot("start", models.DateTimeField()),
        start__lt=Slot("end", models.DateTimeField()),
    )
    & ~Q(status=S.CANCELLED),
    annotations={
        "check_waiting": Exists(
            DoseCheck.objects.filter(session=OuterRef("pk"), second_checked_at__isnull=True)
        ),
        "nurse_signed": Exists(
            SessionSignature.objects.filter(session=OuterRef("pk"), role=Role.NURSE.value)
        ),
        "clinician_signed": Exists(
            SessionSignature.objects.filter(session=OuterRef("pk"), role=Role.CLINICIAN.value)
        ),
    },
    kinds_also=(ChartEntryKind.CLINICIAN_REVIEW,),
)
_PRESENCE = CompiledRead(
    lambda: (
        PrescriberPresence.objects.filter(
            date=Slot("today", models.DateField()), clinician__is_active=True
        )
        .select_related("clinician")
        .order_by("from_time")
    )
)
_CHAIRS = CompiledRead(lambda: Chair.objects.order_by("name"))


def _pure(row: VitalsReading) -> monitoring.Vitals:
    return monitoring.Vitals(
        systolic_mmhg=row.systolic_mmhg,
        diastolic_mmhg=row.diastolic_mmhg,
        heart_rate_bpm=row.heart_rate_bpm,
        spo2_percent=row.spo2_percent,
        respiratory_rate=row.respiratory_rate,
        moaas=row.moaas,
    )


def _tiles(chairs: list[Chair], facts: list[SessionFacts], now: datetime) -> list[ChairTile]:
    """Each chair: who is in it now (checked in, infusing, recovery), else who is booked next."""
    tiles = []
    for chair in chairs:
        own = [f for f in facts if f.session.chair_id == chair.pk]
        current = next((f for f in own if f.session.status in ACTIVE), None)
        upcoming = [
            f for f in own if f.session.status == S.SCHEDULED and f.session.chair_until > now
        ]
        nxt = upcoming[0] if upcoming else None
        if current is not None:
            tiles.append(ChairTile(chair, TILE_STATE[S(current.session.status)], current, nxt))
        elif nxt is not None:
            later = upcoming[1] if len(upcoming) > 1 else None
            tiles.append(ChairTile(chair, "booked", nxt, later))
        else:
            tiles.append(ChairTile(chair, "empty", None, None))
    return tiles
