"""Protocols, courses, dose orders, chairs, bookings and prescriber presence. Mounted at the API
root: paths are written out in full. Ids are taken as text and parsed by the selectors, so that
a malformed id answers the same JSON 404 as an unknown one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import User
from ketaclinic.api.errors import refused_response
from ketaclinic.courses import bookings, selectors, services
from ketaclinic.courses.models import Chair, Course, DoseOrder, PrescriberPresence, Protocol
from ketaclinic.courses.schemas import (
    ChairIn,
    ChairOut,
    CourseIn,
    CourseOut,
    DoseOrderIn,
    DoseOrderOut,
    FreeSlotsOut,
    PhaseIn,
    PresenceIn,
    PresenceOut,
    ProtocolOut,
    ReasonIn,
    RefusedOut,
    RescheduleIn,
    SeriesIn,
    SeriesProposalIn,
    SeriesProposalOut,
    SessionIn,
    SessionOut,
)
from ketaclinic.infusions.models import Session
from ketaclinic.patients.selectors import patient_get_for_user

router = Router(tags=["courses"])


def _refused(request: HttpRequest, exc: services.Refused) -> HttpResponse:
    return refused_response(request, exc.reasons)


@router.get("/protocols", response=list[ProtocolOut], url_name="protocols")
def protocols_list(request: HttpRequest) -> list[Protocol]:
    return selectors.protocols_active_for_user(request.user)


@router.post(
    "/patients/{patient_id}/courses",
    response={201: CourseOut, 409: RefusedOut},
    url_name="patient_courses",
)
def course_start(
    request: HttpRequest, patient_id: str, payload: CourseIn
) -> Status[Course] | HttpResponse:
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    try:
        course = services.course_start(
            acting_user=request.user, patient=patient, protocol_id=payload.protocol
        )
    except services.Refused as exc:
        return _refused(request, exc)
    return Status(201, course)


@router.get("/patients/{patient_id}/courses", response=list[CourseOut], url_name="patient_courses")
def courses_list(request: HttpRequest, patient_id: str) -> list[Course]:
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    return selectors.courses_list_for_patient(request.user, patient)


@router.get("/courses/{course_id}", response=CourseOut, url_name="course")
def course_get(request: HttpRequest, course_id: str) -> Course:
    return selectors.course_get_for_user(request.user, course_id)


def _course_action(
    request: HttpRequest, course_id: str, action: Any, **kwargs: Any
) -> Course | HttpResponse:
    course = selectors.course_get_for_user(request.user, course_id, audit=False)
    try:
        result: Course = action(acting_user=request.user, course=course, **kwargs)
    except services.Refused as exc:
        return _refused(request, exc)
    return result


@router.post(
    "/courses/{course_id}/pause",
    response={200: CourseOut, 409: RefusedOut},
    url_name="course_pause",
)
def course_pause(request: HttpRequest, course_id: str, payload: ReasonIn) -> Any:
    return _course_action(request, course_id, services.course_pause, reason=payload.reason)


@router.post(
    "/courses/{course_id}/resume",
    response={200: CourseOut, 409: RefusedOut},
    url_name="course_resume",
)
def course_resume(request: HttpRequest, course_id: str, payload: ReasonIn) -> Any:
    return _course_action(request, course_id, services.course_resume, reason=payload.reason)


@router.post(
    "/courses/{course_id}/end",
    response={200: CourseOut, 409: RefusedOut},
    url_name="course_end",
)
def course_end(request: HttpRequest, course_id: str, payload: ReasonIn) -> Any:
    return _course_action(request, course_id, services.course_end, reason=payload.reason)


@router.post(
    "/courses/{course_id}/phase",
    response={200: CourseOut, 409: RefusedOut},
    url_name="course_phase",
)
def course_phase(request: HttpRequest, course_id: str, payload: PhaseIn) -> Any:
    return _course_action(
        request, course_id, services.course_phase_set, phase=payload.phase, reason=payload.reason
    )


@router.post(
    "/courses/{course_id}/dose-orders",
    response={201: DoseOrderOut, 409: RefusedOut},
    url_name="course_dose_orders",
)
def dose_order_create(
    request: HttpRequest, course_id: str, payload: DoseOrderIn
) -> Status[DoseOrder] | HttpResponse:
    course = selectors.course_get_for_user(request.user, course_id, audit=False)
    try:
        order = services.dose_order_create(
            acting_user=request.user,
            course=course,
            mg_per_kg=payload.mg_per_kg,
            fixed_mg=payload.fixed_mg,
            rationale=payload.rationale,
        )
    except services.Refused as exc:
        return _refused(request, exc)
    return Status(201, order)


@router.post(
    "/courses/{course_id}/sessions",
    response={201: SessionOut, 409: RefusedOut},
    url_name="course_sessions",
)
def session_book(
    request: HttpRequest, course_id: str, payload: SessionIn
) -> Status[Session] | HttpResponse:
    course = selectors.course_get_for_user(request.user, course_id, audit=False)
    try:
        session = services.session_book(
            acting_user=request.user, course=course, chair_name=payload.chair, start=payload.start
        )
    except services.Refused as exc:
        return _refused(request, exc)
    return Status(201, session)


@router.get("/chairs", response=list[ChairOut], url_name="chairs")
def chairs_list(request: HttpRequest) -> list[Chair]:
    require(request.user, "session.book")
    return list(Chair.objects.order_by("name"))


@router.post("/chairs", response={201: ChairOut}, url_name="chairs")
def chair_create(request: HttpRequest, payload: ChairIn) -> Status[Chair]:
    chair = services.chair_create(
        acting_user=request.user,
        name=payload.name,
        room=payload.room,
        opening_hours=[window.stored() for window in payload.opening_hours],
    )
    return Status(201, chair)


@router.post("/prescriber-presence", response={201: PresenceOut}, url_name="prescriber_presence")
def presence_create(request: HttpRequest, payload: PresenceIn) -> Status[PrescriberPresence]:
    require(request.user, "presence.edit")
    clinician = User.objects.filter(username=payload.clinician).first()
    if clinician is None:
        raise ValidationError({"clinician": ["No user has this username."]})
    presence = services.presence_record(
        acting_user=request.user,
        clinician=clinician,
        day=payload.date,
        from_time=payload.from_time,
        to_time=payload.to_time,
    )
    return Status(201, presence)


# -- series, free slots, cancel / move / did not attend -----------------------------------------


def _chair_named(name: str) -> Chair:
    chair = Chair.objects.filter(name=name.strip()).first()
    if chair is None:
        raise ValidationError({"chair": ["No chair has this name."]})
    return chair


@router.post(
    "/courses/{course_id}/series-proposal",
    response=SeriesProposalOut,
    url_name="course_series_proposal",
)
def series_proposal(
    request: HttpRequest, course_id: str, payload: SeriesProposalIn
) -> dict[str, Any]:
    """The starts proposed for a series from `first_start` (the protocol's spacing, the chair's
    hours, prescriber presence and free chair checked per date). Stores nothing."""
    require(request.user, "session.book")
    course = selectors.course_get_for_user(request.user, course_id, audit=False)
    proposal = bookings.series_proposal(
        user=request.user,
        course=course,
        chair=_chair_named(payload.chair),
        first_start=payload.first_start,
        count=payload.count or max(bookings.series_remaining(course), 1),
    )
    return {
        "starts": list(proposal.starts),
        "skipped": [{"start": s.start, "reason": s.reason} for s in proposal.skipped],
        "problems": list(proposal.problems),
    }


@router.post(
    "/courses/{course_id}/series",
    response={201: list[SessionOut], 409: RefusedOut},
    url_name="course_series",
)
def series_book(
    request: HttpRequest, course_id: str, payload: SeriesIn
) -> Status[list[Session]] | HttpResponse:
    """Book every start in one step, or none (409 lists each refused session's reasons)."""
    course = selectors.course_get_for_user(request.user, course_id, audit=False)
    try:
        sessions = bookings.series_book(
            acting_user=request.user,
            course=course,
            chair_name=payload.chair,
            starts=list(payload.starts),
        )
    except services.Refused as exc:
        return _refused(request, exc)
    return Status(201, sessions)


@router.get("/chairs/free-slots", response=FreeSlotsOut, url_name="chair_free_slots")
def free_slots(request: HttpRequest, day: date, session_minutes: int = 120) -> dict[str, Any]:
    """Each chair's open hours, free ranges and free starts (every 30 minutes) on `day` for a
    session holding the chair `session_minutes`; whether a prescriber is on site at each."""
    if not 1 <= session_minutes <= 24 * 60:
        raise ValidationError({"session_minutes": ["Between 1 and 1440."]})
    rows = bookings.chair_slots_on(request.user, day, timedelta(minutes=session_minutes))
    return {
        "date": day,
        "session_minutes": session_minutes,
        "chairs": [
            {
                "chair": row.chair.name,
                "open": row.open,
                "free": row.free,
                "slots": [
                    {"start": slot.start, "prescriber_on_site": slot.prescriber}
                    for slot in row.slots
                ],
            }
            for row in rows
        ],
    }


def _session_action(
    request: HttpRequest, session_id: str, action: Any, **kwargs: Any
) -> Session | HttpResponse:
    session = selectors.session_get_for_booking(request.user, session_id, audit=False)
    try:
        result: Session = action(acting_user=request.user, session=session, **kwargs)
    except services.Refused as exc:
        return _refused(request, exc)
    return result


@router.post(
    "/sessions/{session_id}/cancel",
    response={200: SessionOut, 409: RefusedOut},
    url_name="session_cancel",
)
def session_cancel(request: HttpRequest, session_id: str, payload: ReasonIn) -> Any:
    return _session_action(request, session_id, bookings.session_cancel, reason=payload.reason)


@router.post(
    "/sessions/{session_id}/no-show",
    response={200: SessionOut, 409: RefusedOut},
    url_name="session_no_show",
)
def session_no_show(request: HttpRequest, session_id: str, payload: ReasonIn) -> Any:
    return _session_action(request, session_id, bookings.session_no_show, reason=payload.reason)


@router.post(
    "/sessions/{session_id}/reschedule",
    response={200: SessionOut, 409: RefusedOut},
    url_name="session_reschedule",
)
def session_reschedule(request: HttpRequest, session_id: str, payload: RescheduleIn) -> Any:
    return _session_action(
        request,
        session_id,
        bookings.session_reschedule,
        start=payload.start,
        chair_name=payload.chair,
        reason=payload.reason,
    )
