"""Writes and reads around booked sessions beyond a single booking: an induction series in one
step (proposed from the protocol's spacing, the chairs' hours and who is on site), a chair's
free slots on a day, and cancelling, moving or marking a session as not attended, always with a
reason. Each write runs in one transaction with its audit event; single bookings stay in
`services.session_book`, whose checks these share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.courses.models import (
    Chair,
    Course,
    CourseStatus,
    PrescriberPresence,
    SessionChange,
    SessionChangeKind,
)
from ketaclinic.courses.opening_hours import opening_hours_parse
from ketaclinic.courses.rules.series import SeriesProposal, series_propose
from ketaclinic.courses.rules.slots import Interval, free_ranges, free_slots
from ketaclinic.courses.services import (
    Refused,
    booking_problems,
    chair_occupation,
    session_book,
)
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import Phase as ProtocolPhase

SLOT_STEP = timedelta(minutes=30)
# The day a chair without opening hours is shown for (it may be booked at any time).
ANY_TIME_DAY = (time(7, 0), time(20, 0))
SEARCH_DAYS = 60


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), timezone.get_current_timezone())


def _open_intervals(chair: Chair, day: date) -> list[Interval]:
    windows = opening_hours_parse(chair.opening_hours)
    if not windows:
        return [Interval(_local(day, ANY_TIME_DAY[0]), _local(day, ANY_TIME_DAY[1]))]
    return [
        Interval(_local(day, w.opens), _local(day, w.closes))
        for w in windows
        if w.weekday == day.weekday()
    ]


def _presence_intervals(rows: list[PrescriberPresence], day: date) -> list[Interval]:
    return [Interval(_local(day, p.from_time), _local(day, p.to_time)) for p in rows]


# -- free slots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime
    prescriber: bool
    """Whether a prescriber is marked on site at the start (else it cannot be booked)."""


@dataclass(frozen=True)
class ChairSlots:
    chair: Chair
    open: list[Interval]
    free: list[Interval]
    slots: list[Slot]


def chair_slots_on(user: Any, day: date, duration: timedelta) -> list[ChairSlots]:
    """Each chair's open hours, free ranges and free starts on `day` for a session holding the
    chair `duration`; slots before now are left out. Times only, no patient: not an audited
    read. Three queries whatever the number of chairs and sessions."""
    require(user, "session.book")
    chairs = list(Chair.objects.order_by("name"))
    start, end = _local(day, time.min), _local(day + timedelta(days=1), time.min)
    held = list(
        Session.objects.exclude(status=SessionStatus.CANCELLED)
        .filter(start__lt=end, chair_until__gt=start)
        .values_list("chair_id", "start", "chair_until")
    )
    presence = _presence_intervals(
        list(PrescriberPresence.objects.filter(date=day, clinician__is_active=True)), day
    )
    now = timezone.now()
    result = []
    for chair in chairs:
        open_intervals = _open_intervals(chair, day)
        busy = [Interval(s, e) for chair_id, s, e in held if chair_id == chair.pk]
        starts = free_slots(
            open_intervals=open_intervals,
            busy=busy,
            duration=duration,
            step=SLOT_STEP,
            not_before=now,
        )
        result.append(
            ChairSlots(
                chair=chair,
                open=open_intervals,
                free=free_ranges(open_intervals=open_intervals, busy=busy),
                slots=[Slot(s, any(p.covers(s) for p in presence)) for s in starts],
            )
        )
    return result


# -- an induction series ------------------------------------------------------------------------


def series_remaining(course: Course) -> int:
    """How many sessions of the course's phase the protocol still allows (None: no limit, then
    a maintenance series defaults to 4)."""
    rule = course.protocol.definition().schedule[ProtocolPhase(course.phase)]
    booked = (
        Session.objects.filter(course=course, phase=course.phase)
        .exclude(status=SessionStatus.CANCELLED)
        .count()
    )
    if rule.max_sessions is None:
        return 4
    return max(rule.max_sessions.value - booked, 0)


def series_proposal(
    *, user: Any, course: Course, chair: Chair, first_start: datetime, count: int
) -> SeriesProposal:
    """The starts proposed for `count` sessions from `first_start` in `chair`: the protocol's
    minimum gap and window for the course's phase, each start checked against every rule a
    single booking is (opening hours, prescriber on site, the chair free, spacing)."""
    require(user, "session.book")
    if first_start.tzinfo is None or first_start.utcoffset() is None:
        raise ValidationError({"first_start": ["Must include a UTC offset."]})
    definition = course.protocol.definition()
    rule = definition.schedule[ProtocolPhase(course.phase)]
    proposed: list[datetime] = []

    def available(start: datetime) -> str | None:
        reasons = booking_problems(course=course, chair=chair, start=start, definition=definition)
        # Spacing against the sessions proposed before this one in the same series.
        gap = timedelta(hours=rule.min_hours_between.value)
        if any(abs(start.astimezone(UTC) - other.astimezone(UTC)) < gap for other in proposed):
            reasons.append("too close to the session before it")
        if reasons:
            return "; ".join(reasons)
        proposed.append(start)
        return None

    return series_propose(
        first_start=first_start,
        count=count,
        min_hours_between=rule.min_hours_between.value,
        window_days=rule.window_days.value if rule.window_days else None,
        available=available,
        zone=timezone.get_current_timezone(),
        search_days=SEARCH_DAYS,
    )


@transaction.atomic
def series_book(
    *, acting_user: Any, course: Course, chair_name: str, starts: list[datetime]
) -> list[Session]:
    """Book every start in one step, or none: if any is refused, nothing is stored and the
    refusal lists each refused session with its reasons."""
    require(acting_user, "session.book")
    if not starts:
        raise ValidationError({"starts": ["Choose at least one session."]})
    if len(starts) > 30:
        raise ValidationError({"starts": ["At most 30 sessions at once."]})
    sessions: list[Session] = []
    reasons: list[str] = []
    for number, start in enumerate(sorted(starts), start=1):
        try:
            sessions.append(
                session_book(
                    acting_user=acting_user, course=course, chair_name=chair_name, start=start
                )
            )
        except Refused as exc:
            local = timezone.localtime(start)
            reasons.extend(
                f"session {number} ({local:%a %Y-%m-%d %H:%M}): {r}" for r in exc.reasons
            )
    if reasons:
        raise Refused(reasons)
    return sessions


# -- cancel, move, did not attend ---------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required."]})
    return reason


def _session_locked(session: Session) -> Session:
    return (
        Session.objects.select_for_update()
        .select_related("chair", "course__protocol")
        .get(pk=session.pk)
    )


def _change_record(
    acting_user: Any,
    session: Session,
    kind: SessionChangeKind,
    reason: str,
    *,
    from_start: datetime,
    from_chair: str,
) -> SessionChange:
    change = SessionChange(
        session=session,
        kind=kind,
        reason=reason,
        from_start=from_start,
        from_chair=from_chair,
        to_start=session.start if kind == SessionChangeKind.RESCHEDULED else None,
        to_chair=session.chair.name if kind == SessionChangeKind.RESCHEDULED else "",
        changed_by=acting_user,
    )
    change.full_clean()
    change.save(force_insert=True)
    for object_type, object_id in (("Session", session.pk), ("SessionChange", change.pk)):
        audit_record(
            actor=acting_user,
            action=Action.UPDATE if object_type == "Session" else Action.CREATE,
            object_type=object_type,
            object_id=object_id,
            patient_id=session.course.patient_id,
        )
    return change


def _must_be_scheduled(session: Session, what: str) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise Refused(
            [
                f"the session is {session.get_status_display().lower()}; only a booked session "
                f"that has not started can be {what}"
            ]
        )


@transaction.atomic
def session_cancel(*, acting_user: Any, session: Session, reason: str) -> Session:
    """Cancel a booked session that has not started; its chair is free again."""
    require(acting_user, "session.book")
    reason = _reason(reason)
    locked = _session_locked(session)
    _must_be_scheduled(locked, "cancelled")
    locked.status = SessionStatus.CANCELLED
    locked.save(update_fields=["status"])
    _change_record(
        acting_user,
        locked,
        SessionChangeKind.CANCELLED,
        reason,
        from_start=locked.start,
        from_chair=locked.chair.name,
    )
    return locked


@transaction.atomic
def session_no_show(*, acting_user: Any, session: Session, reason: str) -> Session:
    """The patient did not come: only a booked session whose start has passed (or is today).
    The session is closed as cancelled and the change says it was a no-show."""
    require(acting_user, "session.book")
    reason = _reason(reason)
    locked = _session_locked(session)
    _must_be_scheduled(locked, "marked as not attended")
    if timezone.localdate(locked.start) > timezone.localdate():
        raise Refused(["the session is on a later day; cancel it instead"])
    locked.status = SessionStatus.CANCELLED
    locked.save(update_fields=["status"])
    _change_record(
        acting_user,
        locked,
        SessionChangeKind.NO_SHOW,
        reason,
        from_start=locked.start,
        from_chair=locked.chair.name,
    )
    return locked


@transaction.atomic
def session_reschedule(
    *, acting_user: Any, session: Session, start: datetime, chair_name: str, reason: str
) -> Session:
    """Move a booked session to another start and/or chair: every rule of a new booking is
    checked, the session itself aside. Refused with every reason; nothing changes then."""
    require(acting_user, "session.book")
    reason = _reason(reason)
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationError({"start": ["Must include a UTC offset."]})
    chair = Chair.objects.select_for_update().filter(name=chair_name.strip()).first()
    if chair is None:
        raise ValidationError({"chair": ["No chair has this name."]})
    locked = _session_locked(session)
    _must_be_scheduled(locked, "moved")
    course = Course.objects.select_for_update().select_related("protocol").get(pk=locked.course_id)
    if course.status != CourseStatus.ACTIVE:
        raise Refused([f"the course is {course.status}"])
    definition = course.protocol.definition()
    reasons = booking_problems(
        course=course, chair=chair, start=start, definition=definition, moving=locked
    )
    if reasons:
        raise Refused(reasons)
    from_start, from_chair = locked.start, locked.chair.name
    locked.start = start
    locked.chair = chair
    locked.chair_until = start + chair_occupation(definition)
    locked.full_clean()
    locked.save(update_fields=["start", "chair", "chair_until"])
    _change_record(
        acting_user,
        locked,
        SessionChangeKind.RESCHEDULED,
        reason,
        from_start=from_start,
        from_chair=from_chair,
    )
    return locked


def session_changes(session: Session) -> list[SessionChange]:
    """The session's cancellations, moves and no-shows, oldest first (part of its read)."""
    return list(SessionChange.objects.filter(session=session).select_related("changed_by"))
