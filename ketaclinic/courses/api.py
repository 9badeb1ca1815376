"""Protocols, courses, dose orders, chairs, bookings and prescriber presence. Mounted at the API
root: paths are written out in full. Ids are taken as text and parsed by the selectors, so that
a malformed id answers the same JSON 404 as an unknown one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import User
from ketaclinic.api.errors import refused_response
from ketaclinic.courses import selectors, services
from ketaclinic.courses.models import Chair, Course, DoseOrder, PrescriberPresence, Protocol
from ketaclinic.courses.schemas import (
    ChairIn,
    ChairOut,
    CourseIn,
    CourseOut,
    DoseOrderIn,
    DoseOrderOut,
    PhaseIn,
    PresenceIn,
    PresenceOut,
    ProtocolOut,
    ReasonIn,
    RefusedOut,
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
