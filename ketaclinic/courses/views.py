"""Pages of the courses app: protocols and their versions, a patient's courses (start, change,
dose orders, bookings), chairs, and the schedule. Views are thin: the forms shape the input, the
services decide (and check the role again); a refusal answers 409 with the service's reasons
beside the form, bad input 422 with the errors beside the fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import require, staff_page_only, user_can
from ketaclinic.courses import selectors, services
from ketaclinic.courses.forms import (
    ChairForm,
    CourseChange,
    CourseChangeForm,
    CourseForms,
    CourseStartForm,
    DoseOrderForm,
    PresenceForm,
    ProtocolVersionForm,
    SessionBookForm,
)
from ketaclinic.courses.models import Course, CourseStatus, Protocol
from ketaclinic.courses.rules import valued
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user, patient_open_flags

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _protocol_or_404(request: HttpRequest, protocol_id: int) -> Protocol:
    try:
        return selectors.protocol_get_for_user(request.user, protocol_id)
    except Protocol.DoesNotExist:
        raise Http404 from None


def _day_or_404(raw: str) -> date:
    """A day written YYYY-MM-DD in the URL; anything else is a 404."""
    if not _ISO_DAY.match(raw):
        raise Http404
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404 from None


@login_required
def protocol_list(request: HttpRequest) -> HttpResponse:
    protocols = selectors.protocols_active_for_user(request.user)
    return render(request, "courses/protocol_list.html", {"protocols": protocols})


@login_required
def protocol_detail(request: HttpRequest, protocol_id: int) -> HttpResponse:
    protocol = _protocol_or_404(request, protocol_id)
    context = {
        "protocol": protocol,
        "versions": selectors.protocol_versions(protocol.code),
        "can_edit": user_can(request.user, "protocol.edit"),
    }
    return render(request, "courses/protocol_detail.html", context)


@login_required
def protocol_new_version(request: HttpRequest, protocol_id: int) -> HttpResponse:
    """Edit a protocol by writing its next version; the version shown stays as it was."""
    protocol = _protocol_or_404(request, protocol_id)
    require(request.user, "protocol.edit")
    form = ProtocolVersionForm(
        request.POST or None, initial={"definition_json": protocol.definition_json}
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.protocol_new_version(
                acting_user=request.user,
                base=protocol,
                definition_json=form.cleaned_data["definition_json"],
                source=form.cleaned_data["source"],
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Version {created.version} saved and now in use.")
            return redirect("courses:protocol", protocol_id=created.pk)
    context = {
        "protocol": protocol,
        "form": form,
        "next_version": services.protocol_next_version_number(protocol.code),
    }
    return render(request, "courses/protocol_form.html", context)


def _patient_or_404(request: HttpRequest, patient_id: UUID) -> Patient:
    try:
        return patient_get_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None


def _course_or_404(request: HttpRequest, course_id: UUID) -> Course:
    try:
        return selectors.course_get_for_user(request.user, course_id, audit=False)
    except Course.DoesNotExist:
        raise Http404 from None


def _courses_page(
    request: HttpRequest,
    patient: Patient,
    *,
    course_id: UUID | None = None,
    bound: dict[str, forms.Form] | None = None,
    reasons: tuple[str, ...] = (),
    status: int = 200,
) -> HttpResponse:
    """The patient's courses with the forms the user may use; `bound` is the form just posted
    (for the course `course_id`, or the start form), shown with its errors or the reasons the
    service refused it."""
    user = request.user
    courses = selectors.courses_list_for_patient(user, patient)
    panels = [
        CourseForms.build(user, course, bound, reasons)
        if course.pk == course_id
        else CourseForms.build(user, course)
        for course in courses
    ]
    start_form = (bound or {}).get("start") if course_id is None else None
    has_open = any(course.status != CourseStatus.ENDED for course in courses)
    if start_form is None and user_can(user, "course.start") and not has_open:
        start_form = CourseStartForm()
    context = {
        "patient": patient,
        "flags": patient_open_flags(patient),
        "panels": panels,
        "start_form": start_form,
        "start_reasons": reasons if course_id is None else (),
        "is_staff": user_can(user, "patient.view_any"),
        "can_view_sessions": user_can(user, "session.view"),
        "can_see_chairs": user_can(user, "session.book"),
        "today": timezone.localdate(),
    }
    return render(request, "courses/patient_courses.html", context, status=status)


@login_required
@require_GET
def patient_courses(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    return _courses_page(request, _patient_or_404(request, patient_id))


def _to_patient(course: Course, message: str, request: HttpRequest) -> HttpResponse:
    messages.success(request, message)
    return redirect("courses:patient_courses", patient_id=course.patient_id)


@login_required
@require_POST
def course_start(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """A clinician starts a course; refused (409, with the service's reasons, nothing stored)
    unless intake has cleared the patient and no other course is open."""
    require(request.user, "course.start")
    patient = _patient_or_404(request, patient_id)
    form = CourseStartForm(request.POST)
    if form.is_valid():
        try:
            course = services.course_start(
                acting_user=request.user,
                patient=patient,
                protocol_id=form.cleaned_data["protocol"].pk,
            )
        except services.Refused as exc:
            bound: dict[str, forms.Form] = {"start": form}
            return _courses_page(request, patient, bound=bound, reasons=exc.reasons, status=409)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            return _to_patient(course, f"Course started on {course.protocol}.", request)
    return _courses_page(request, patient, bound={"start": form}, status=422)


_FormT = TypeVar("_FormT", bound=forms.Form)


def _course_write(
    request: HttpRequest,
    course_id: UUID,
    *,
    permission: str,
    name: str,
    form_class: type[_FormT],
    write: Callable[[Course, _FormT], str],
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """One of a course's forms, posted: the permission first (a forged post by another role is
    a 403), then the form, then the service. Refused: 409 with its reasons; bad input: 422 with
    the errors beside the fields; either way nothing is stored."""
    require(request.user, permission)
    course = _course_or_404(request, course_id)
    form = form_class(request.POST)
    status = 422
    reasons: tuple[str, ...] = ()
    if form.is_valid():
        try:
            message = write(course, form)
        except services.Refused as exc:
            status, reasons = 409, exc.reasons
        except ValidationError as exc:
            service_errors_onto(form, exc, aliases)
        else:
            return _to_patient(course, message, request)
    patient = _patient_or_404(request, course.patient_id)
    return _courses_page(
        request, patient, course_id=course.pk, bound={name: form}, reasons=reasons, status=status
    )


@login_required
@require_POST
def course_change(request: HttpRequest, course_id: UUID) -> HttpResponse:
    """Pause, resume or end the course, or move it to another phase; always with a reason."""

    def write(course: Course, form: CourseChangeForm) -> str:
        user, reason = request.user, form.cleaned_data["reason"]
        phase = form.phase()
        if phase is not None:
            changed = services.course_phase_set(
                acting_user=user, course=course, phase=phase, reason=reason
            )
            return f"The course is now in the {changed.get_phase_display().lower()} phase."
        change = {
            CourseChange.PAUSE: services.course_pause,
            CourseChange.RESUME: services.course_resume,
            CourseChange.END: services.course_end,
        }[CourseChange(form.cleaned_data["change"])]
        changed = change(acting_user=user, course=course, reason=reason)
        return f"The course is now {changed.get_status_display().lower()}."

    return _course_write(
        request,
        course_id,
        permission="course.change",
        name="change",
        form_class=CourseChangeForm,
        write=write,
        aliases={"phase": "change"},
    )


@login_required
@require_POST
def dose_order_add(request: HttpRequest, course_id: UUID) -> HttpResponse:
    def write(course: Course, form: DoseOrderForm) -> str:
        order = services.dose_order_create(
            acting_user=request.user,
            course=course,
            rationale=form.cleaned_data["rationale"],
            **form.amounts(),
        )
        return f"Dose order recorded: {order}."

    return _course_write(
        request,
        course_id,
        permission="dose.order",
        name="dose",
        form_class=DoseOrderForm,
        write=write,
        aliases={"mg_per_kg": "amount", "fixed_mg": "amount"},
    )


@login_required
@require_POST
def session_book(request: HttpRequest, course_id: UUID) -> HttpResponse:
    def write(course: Course, form: SessionBookForm) -> str:
        session = services.session_book(
            acting_user=request.user,
            course=course,
            chair_name=form.cleaned_data["chair"].name,
            start=form.cleaned_data["start"],
        )
        start = timezone.localtime(session.start)
        return f"Session booked: {start:%a %Y-%m-%d %H:%M} in {session.chair.name}."

    return _course_write(
        request,
        course_id,
        permission="session.book",
        name="book",
        form_class=SessionBookForm,
        write=write,
    )


@login_required
@require_http_methods(["GET", "POST"])
def chairs(request: HttpRequest) -> HttpResponse:
    """The chairs with their rooms and opening hours, for whoever books; the administrator
    adds chairs here."""
    rows = selectors.chairs_for_user(request.user)
    if request.method == "GET":
        form = ChairForm() if user_can(request.user, "chair.edit") else None
        return render(request, "courses/chairs.html", {"rows": rows, "form": form})
    require(request.user, "chair.edit")
    form = ChairForm(request.POST)
    if form.is_valid():
        try:
            chair = services.chair_create(
                acting_user=request.user,
                name=form.cleaned_data["name"],
                room=form.cleaned_data["room"],
                opening_hours=form.cleaned_data["opening_hours"],
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Chair {chair.name} added.")
            return redirect("courses:chairs")
    return render(request, "courses/chairs.html", {"rows": rows, "form": form}, status=422)


def _require_schedule(request: HttpRequest) -> None:
    require(request.user, "patient.view_any")


@login_required
def schedule_today(request: HttpRequest) -> HttpResponse:
    _require_schedule(request)
    return redirect("courses:schedule_day", day=timezone.localdate().isoformat())


@login_required
def schedule_day(request: HttpRequest, day: str) -> HttpResponse:
    _require_schedule(request)
    the_day = _day_or_404(day)
    schedule = selectors.schedule_for_user(request.user, the_day, 1)[0]
    context = {
        "schedule": schedule,
        "previous": the_day - timedelta(days=1),
        "next": the_day + timedelta(days=1),
        "week_start": the_day - timedelta(days=the_day.weekday()),
        "presence_form": PresenceForm() if user_can(request.user, "presence.edit") else None,
        "can_view_sessions": user_can(request.user, "session.view"),
        "can_see_chairs": user_can(request.user, "session.book"),
    }
    return render(request, "courses/schedule_day.html", context)


@login_required
@require_POST
def presence_add(request: HttpRequest, day: str) -> HttpResponse:
    the_day = _day_or_404(day)
    require(request.user, "presence.edit")
    form = PresenceForm(request.POST)
    if form.is_valid():
        try:
            services.presence_record(
                acting_user=request.user,
                clinician=form.cleaned_data["clinician"],
                day=the_day,
                from_time=form.cleaned_data["from_time"],
                to_time=form.cleaned_data["to_time"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Prescriber presence recorded.")
    else:
        messages.error(request, "Choose a prescriber and a from and to time.")
    return redirect("courses:schedule_day", day=the_day.isoformat())


@login_required
def schedule_week(request: HttpRequest, day: str) -> HttpResponse:
    _require_schedule(request)
    the_day = _day_or_404(day)
    monday = the_day - timedelta(days=the_day.weekday())
    context = {
        "days": selectors.schedule_for_user(request.user, monday, 7),
        "monday": monday,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "can_view_sessions": user_can(request.user, "session.view"),
        "can_see_chairs": user_can(request.user, "session.book"),
    }
    return render(request, "courses/schedule_week.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def protocol_edit(request: HttpRequest, protocol_id: int) -> HttpResponse:
    """Edit a protocol's numbers as a form, each with its source beside it; saving writes the
    next version (the JSON page stays for export and import)."""
    protocol = _protocol_or_404(request, protocol_id)
    require(request.user, "protocol.edit")
    data = valued.protocol_parse(protocol.definition_json)
    rows = valued.valued_rows(data)
    errors: dict[str, str] = {}
    problems: list[str] = []
    submitted: dict[str, str] = {}
    source = ""
    if request.method == "POST":
        source = request.POST.get("source", "")[:500]
        changes = {}
        for index, row in enumerate(rows):
            text = request.POST.get(f"v{index}", "")[:200]
            submitted[row.path] = text
            try:
                value = valued.typed_like(row.value, text)
            except ValueError as exc:
                errors[row.path] = str(exc)
                continue
            if value != row.value:
                changes[row.path] = value
        if not errors and not changes:
            problems.append("Nothing was changed.")
        if not errors and changes:
            try:
                created = services.protocol_new_version(
                    acting_user=request.user,
                    base=protocol,
                    definition_json=valued.protocol_dump(valued.valued_set(data, changes)),
                    source=source,
                )
            except ValidationError as exc:
                problems.extend(
                    message for messages_ in exc.message_dict.values() for message in messages_
                )
            else:
                messages.success(request, f"Version {created.version} saved and now in use.")
                return redirect("courses:protocol", protocol_id=created.pk)
    context = {
        "protocol": protocol,
        "rows": [
            {
                "index": index,
                "row": row,
                "shown": submitted.get(row.path, _shown(row.value)),
                "error": errors.get(row.path, ""),
                "is_bool": isinstance(row.value, bool),
            }
            for index, row in enumerate(rows)
        ],
        "source": source,
        "problems": problems,
        "next_version": services.protocol_next_version_number(protocol.code),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "courses/protocol_edit.html", context, status=status)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
