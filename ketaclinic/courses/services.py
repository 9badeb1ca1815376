"""Writes for protocols, courses, dose orders, chairs, bookings and prescriber presence.

Each runs in one transaction with its audit event; e-mail goes out only after commit.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import (
    Chair,
    Course,
    CourseStatus,
    DoseOrder,
    Phase,
    PrescriberPresence,
    Protocol,
)
from ketaclinic.courses.opening_hours import opening_hours_parse, opening_hours_problem
from ketaclinic.courses.reminders import session_reminder_send
from ketaclinic.eligibility import clearance
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import DoseBasis, ProtocolDataError, protocol_from_json
from ketaclinic.infusions.protocols import Phase as ProtocolPhase
from ketaclinic.infusions.protocols import Protocol as ProtocolDefinition
from ketaclinic.infusions.rules.scheduling import booking_spacing_problems
from ketaclinic.patients.models import Patient


class Refused(Exception):
    """The request is well formed but the clinic's rules refuse it (HTTP 409)."""

    def __init__(self, reasons: list[str] | tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


# -- protocols ---------------------------------------------------------------------------------


def protocol_columns(definition: ProtocolDefinition) -> dict[str, Any]:
    """The denormalised columns of a protocol row, copied from its definition."""
    dosing = definition.dosing
    per_kg = dosing.basis is DoseBasis.PER_KG
    return {
        "name": definition.title[:200],
        "medication": definition.medication[:100],
        "route": definition.route.value,
        "mg_per_kg": dosing.amount.value if per_kg else None,
        "fixed_dose_mg": None if per_kg else dosing.amount.value,
        "infusion_minutes": dosing.infusion_minutes.value if dosing.infusion_minutes else None,
        "max_dose_mg": dosing.max_single_dose_mg.value,
    }


@transaction.atomic
def protocol_new_version(
    *, acting_user: Any, base: Protocol, definition_json: str, source: str
) -> Protocol:
    """Store an edited protocol as the next version of `base`'s code; the old versions stay
    (courses keep theirs) and only the new one is active.

    The JSON is validated by the strict protocol loader; a problem raises ValidationError on
    `definition_json` whose message starts with the path (e.g. `protocol.dosing.amount`), and
    nothing is stored.
    """
    require(acting_user, "protocol.edit")
    source = source.strip()
    problems: dict[str, list[str]] = {}
    if not source:
        problems["source"] = ["Say what this version is based on (e.g. the director's decision)."]
    definition: ProtocolDefinition | None = None
    try:
        definition = protocol_from_json(definition_json, origin="protocol")
    except ProtocolDataError as exc:
        problems["definition_json"] = [str(exc)]
    if definition is not None and definition.code != base.code:
        problems["definition_json"] = [
            f"protocol.code: must stay {base.code!r}; a new code is a new protocol"
        ]
    if problems or definition is None:
        raise ValidationError(problems)
    versions = list(Protocol.objects.select_for_update().filter(code=base.code))
    latest = max(p.version for p in versions)
    Protocol.objects.filter(code=base.code, active=True).update(active=False)
    row = Protocol(
        code=base.code,
        version=latest + 1,
        definition_json=definition_json,
        source=source[:500],
        active=True,
        created_by=acting_user,
        **protocol_columns(definition),
    )
    row.full_clean()
    row.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Protocol",
        object_id=row.pk,
        patient_id=None,
    )
    return row


# -- courses -----------------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required."]})
    return reason


def _course_locked(course: Course) -> Course:
    return Course.objects.select_for_update().select_related("protocol").get(pk=course.pk)


def _audit_course(acting_user: Any, action: Action, course: Course) -> None:
    audit_record(
        actor=acting_user,
        action=action,
        object_type="Course",
        object_id=course.pk,
        patient_id=course.patient_id,
    )


@transaction.atomic
def course_start(*, acting_user: Any, patient: Patient, protocol_id: int) -> Course:
    """Start a course on an active protocol version. Refused unless intake has cleared the
    patient (eligible decision and current consent) and no other course is open."""
    require(acting_user, "course.start")
    protocol = Protocol.objects.filter(pk=protocol_id, active=True).first()
    if protocol is None:
        raise ValidationError({"protocol": ["Not an active protocol."]})
    verdict = clearance.treatment_clearance(patient)
    reasons = list(verdict.reasons) if not verdict.cleared else []
    if not verdict.cleared and not reasons:
        reasons.append("not cleared for treatment")
    # Lock the patient row so that two starts at once cannot both find no open course.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    open_course = Course.objects.filter(
        patient=patient, status__in=[CourseStatus.ACTIVE, CourseStatus.PAUSED]
    ).exists()
    if open_course:
        reasons.append("the patient already has an open course; end it first")
    if reasons:
        raise Refused(reasons)
    course = Course(
        patient=patient,
        protocol=protocol,
        phase=Phase.INDUCTION,
        status=CourseStatus.ACTIVE,
        started_by=acting_user,
    )
    course.full_clean()
    course.save(force_insert=True)
    _audit_course(acting_user, Action.CREATE, course)
    return course


def _course_status_change(
    acting_user: Any, course: Course, reason: str, allowed_from: set[str], to: CourseStatus
) -> Course:
    require(acting_user, "course.change")
    reason = _reason(reason)
    locked = _course_locked(course)
    if locked.status not in allowed_from:
        raise Refused([f"the course is {locked.status}; it cannot become {to.value}"])
    locked.status = to
    locked.status_reason = reason
    fields = ["status", "status_reason"]
    if to == CourseStatus.ENDED:
        locked.ended_at = timezone.now()
        fields.append("ended_at")
        # Booked sessions of an ended course free their chairs.
        Session.objects.filter(course=locked, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.CANCELLED
        )
    locked.full_clean()
    locked.save(update_fields=fields)
    _audit_course(acting_user, Action.UPDATE, locked)
    return locked


@transaction.atomic
def course_pause(*, acting_user: Any, course: Course, reason: str) -> Course:
    return _course_status_change(
        acting_user, course, reason, {CourseStatus.ACTIVE}, CourseStatus.PAUSED
    )


@transaction.atomic
def course_resume(*, acting_user: Any, course: Course, reason: str) -> Course:
    return _course_status_change(
        acting_user, course, reason, {CourseStatus.PAUSED}, CourseStatus.ACTIVE
    )


@transaction.atomic
def course_end(*, acting_user: Any, course: Course, reason: str) -> Course:
    """End the course; its scheduled sessions are cancelled."""
    return _course_status_change(
        acting_user,
        course,
        reason,
        {CourseStatus.ACTIVE, CourseStatus.PAUSED},
        CourseStatus.ENDED,
    )


@transaction.atomic
def course_phase_set(*, acting_user: Any, course: Course, phase: str, reason: str) -> Course:
    """Move the course to another phase (usually induction to maintenance)."""
    require(acting_user, "course.change")
    reason = _reason(reason)
    if phase not in Phase.values:
        raise ValidationError({"phase": [f"Must be one of {', '.join(Phase.values)}."]})
    locked = _course_locked(course)
    if locked.status == CourseStatus.ENDED:
        raise Refused(["the course has ended"])
    if locked.phase == phase:
        raise Refused([f"the course is already in the {phase} phase"])
    locked.phase = phase
    locked.status_reason = reason
    locked.full_clean()
    locked.save(update_fields=["phase", "status_reason"])
    _audit_course(acting_user, Action.UPDATE, locked)
    return locked


@transaction.atomic
def dose_order_create(
    *,
    acting_user: Any,
    course: Course,
    rationale: str,
    mg_per_kg: Decimal | None = None,
    fixed_mg: Decimal | None = None,
) -> DoseOrder:
    """A clinician's dose adjustment for the next sessions: mg/kg or fixed mg, with a reason."""
    require(acting_user, "dose.order")
    problems: dict[str, list[str]] = {}
    if (mg_per_kg is None) == (fixed_mg is None):
        problems["mg_per_kg"] = ["Give either mg_per_kg or fixed_mg, not both or neither."]
    for name, value in (("mg_per_kg", mg_per_kg), ("fixed_mg", fixed_mg)):
        if value is not None and value <= 0:
            problems[name] = ["Must be above zero."]
    if not rationale.strip():
        problems["rationale"] = ["A dose order needs a rationale."]
    if problems:
        raise ValidationError(problems)
    locked = _course_locked(course)
    if locked.status == CourseStatus.ENDED:
        raise Refused(["the course has ended"])
    order = DoseOrder(
        course=locked,
        mg_per_kg=mg_per_kg,
        fixed_mg=fixed_mg,
        rationale=rationale.strip(),
        ordered_by=acting_user,
    )
    order.full_clean()
    order.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="DoseOrder",
        object_id=order.pk,
        patient_id=locked.patient_id,
    )
    return order


# -- chairs, presence and bookings -------------------------------------------------------------


@transaction.atomic
def chair_create(
    *,
    acting_user: Any,
    name: str,
    room: str = "",
    opening_hours: list[dict[str, Any]] | None = None,
) -> Chair:
    require(acting_user, "chair.edit")
    hours = opening_hours or []
    try:
        opening_hours_parse(hours)
    except ValueError as exc:
        raise ValidationError({"opening_hours": [str(exc)]}) from None
    chair = Chair(name=name.strip(), room=room.strip(), opening_hours=hours)
    chair.full_clean()
    chair.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Chair",
        object_id=chair.pk,
        patient_id=None,
    )
    return chair


@transaction.atomic
def chair_update(
    *, acting_user: Any, chair: Chair, room: str, opening_hours: list[dict[str, Any]]
) -> Chair:
    """Change a chair's room and opening hours. Sessions already booked stay booked (moving
    them is a person's decision, on the session's page)."""
    require(acting_user, "chair.edit")
    try:
        opening_hours_parse(opening_hours)
    except ValueError as exc:
        raise ValidationError({"opening_hours": [str(exc)]}) from None
    locked = Chair.objects.select_for_update().get(pk=chair.pk)
    locked.room = room.strip()
    locked.opening_hours = opening_hours
    locked.full_clean()
    locked.save(update_fields=["room", "opening_hours"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="Chair",
        object_id=locked.pk,
        patient_id=None,
    )
    return locked


@transaction.atomic
def presence_record(
    *, acting_user: Any, clinician: User, day: date, from_time: time, to_time: time
) -> PrescriberPresence:
    """Mark a prescriber on site on `day` between two clinic-local times."""
    require(acting_user, "presence.edit")
    problems: dict[str, list[str]] = {}
    if clinician.role != Role.CLINICIAN or not clinician.is_active:
        problems["clinician"] = ["Must be an active clinician (prescriber)."]
    if from_time >= to_time:
        problems["to_time"] = ["Must be after from_time."]
    if problems:
        raise ValidationError(problems)
    presence = PrescriberPresence(
        clinician=clinician,
        date=day,
        from_time=from_time,
        to_time=to_time,
        recorded_by=acting_user,
    )
    presence.full_clean()
    presence.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="PrescriberPresence",
        object_id=presence.pk,
        patient_id=None,
    )
    return presence


def chair_occupation(definition: ProtocolDefinition) -> timedelta:
    """How long a session keeps its chair: the infusion plus the minimum observation."""
    infusion = definition.dosing.infusion_minutes
    minutes = (infusion.value if infusion else 0) + (
        definition.discharge.min_observation_minutes.value
    )
    return timedelta(minutes=max(minutes, 1))


def prescriber_problem(start: datetime) -> str | None:
    """Why no infusion could start at `start`: no active prescriber marked on site then (the
    chart refuses to start an infusion without one, so such a booking could never start)."""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(start, zone)
    that_day = PrescriberPresence.objects.filter(date=local.date(), clinician__is_active=True)
    if that_day.filter(from_time__lte=local.time(), to_time__gt=local.time()).exists():
        return None
    hours = [f"{p.from_time:%H:%M}-{p.to_time:%H:%M}" for p in that_day.order_by("from_time")]
    if not hours:
        return (
            f"no prescriber is marked on site on {local:%a %Y-%m-%d}: the infusion could not "
            "start; mark a prescriber on site on the schedule first"
        )
    return (
        f"no prescriber is on site at {local:%a %Y-%m-%d %H:%M} (on site then: "
        f"{', '.join(hours)}): the infusion could not start"
    )


def booking_problems(
    *,
    course: Course,
    chair: Chair,
    start: datetime,
    definition: ProtocolDefinition,
    moving: Session | None = None,
) -> list[str]:
    """Every reason a session of the (locked) course may not hold `chair` from `start`: the
    course is not active, the start is past, the protocol's spacing, count or window, the
    chair's opening hours, no prescriber on site, another session in the chair. `moving` is a
    session being rescheduled: it does not count against itself."""
    end = start + chair_occupation(definition)
    reasons: list[str] = []
    if course.status != CourseStatus.ACTIVE:
        reasons.append(f"the course is {course.status}")
    if start < timezone.now():
        reasons.append("the start is in the past")

    booked = Session.objects.exclude(status=SessionStatus.CANCELLED)
    if moving is not None:
        booked = booked.exclude(pk=moving.pk)
    phase = moving.phase if moving is not None else course.phase
    same_phase = list(booked.filter(course=course, phase=phase).values_list("start", flat=True))
    others = list(
        booked.filter(course__patient_id=course.patient_id)
        .exclude(course=course, phase=phase)
        .values_list("start", flat=True)
    )
    zone = timezone.get_current_timezone()
    for problem in booking_spacing_problems(
        same_phase,
        start,
        definition,
        ProtocolPhase(phase),
        other_session_starts=others,
        zone=zone,
    ):
        reasons.append(problem.message)

    hours_problem = opening_hours_problem(
        opening_hours_parse(chair.opening_hours),
        timezone.localtime(start, zone),
        timezone.localtime(end, zone),
    )
    if hours_problem:
        reasons.append(hours_problem)
    presence = prescriber_problem(start)
    if presence:
        reasons.append(presence)

    overlapping = booked.filter(chair=chair, start__lt=end, chair_until__gt=start).order_by("start")
    for other in overlapping:
        local = timezone.localtime(other.start, zone)
        until = timezone.localtime(other.chair_until, zone)
        reasons.append(
            f"chair {chair.name} is taken from {local:%Y-%m-%d %H:%M} to {until:%H:%M} "
            "by another session"
        )
    return reasons


@transaction.atomic
def session_book(*, acting_user: Any, course: Course, chair_name: str, start: datetime) -> Session:
    """Book a session of the course in a chair. Refused (with every reason) when the course
    is not active, the start is past, the protocol's spacing, count or window rules are broken,
    the chair is closed then, no prescriber is marked on site then (the infusion could never
    start), or another session holds the chair.

    The chair row is locked first, so that two bookings of one chair queue and the second
    sees the first; the course row is locked for the spacing rules.
    """
    require(acting_user, "session.book")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationError({"start": ["Must include a UTC offset."]})
    chair = Chair.objects.select_for_update().filter(name=chair_name.strip()).first()
    if chair is None:
        raise ValidationError({"chair": ["No chair has this name."]})
    locked = _course_locked(course)
    definition = locked.protocol.definition()
    end = start + chair_occupation(definition)
    reasons = booking_problems(course=locked, chair=chair, start=start, definition=definition)
    if reasons:
        raise Refused(reasons)

    session = Session(
        course=locked,
        chair=chair,
        phase=locked.phase,
        start=start,
        chair_until=end,
        status=SessionStatus.SCHEDULED,
        created_by=acting_user,
    )
    session.full_clean()
    session.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Session",
        object_id=session.pk,
        patient_id=locked.patient_id,
    )
    transaction.on_commit(partial(session_reminder_send, session.pk))
    return session


def protocol_next_version_number(code: str) -> int:
    """The version number the next edit of `code` will get (for the edit page)."""
    latest = Protocol.objects.filter(code=code).aggregate(latest=Max("version"))["latest"]
    return int(latest or 0) + 1
