"""Pages for booking beyond one session: an induction series proposed and booked in one step,
each chair's free slots on a day, and a booked session's page where it is moved, cancelled or
marked as not attended, always with a reason. Thin: forms shape, `bookings` decides; a refusal
answers 409 with the reasons, bad input 422."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import require, user_can
from ketaclinic.courses import bookings, selectors, services
from ketaclinic.courses.forms import (
    ChairForm,
    RescheduleForm,
    SeriesConfirmForm,
    SeriesForm,
    SessionReasonForm,
    chair_form_initial,
)
from ketaclinic.courses.models import Chair, Course
from ketaclinic.courses.rules.series import SeriesProposal
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.selectors import patient_open_flags

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day_or_404(raw: str) -> date:
    """A day written YYYY-MM-DD in the URL; anything else is a 404."""
    if not _ISO_DAY.match(raw):
        raise Http404
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404 from None


def _course_or_404(request: HttpRequest, course_id: UUID) -> Course:
    try:
        return selectors.course_get_for_user(request.user, course_id, audit=False)
    except Course.DoesNotExist:
        raise Http404 from None


def _session_or_404(request: HttpRequest, session_id: UUID, *, audit: bool = True) -> Session:
    try:
        return selectors.session_get_for_booking(request.user, session_id, audit=audit)
    except Session.DoesNotExist:
        raise Http404 from None


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%a %Y-%m-%d %H:%M}"


def _label(iso: str) -> str:
    try:
        return _when(datetime.fromisoformat(iso))
    except (ValueError, TypeError):
        return iso


# -- a series ------------------------------------------------------------------------------------


def _series_page(
    request: HttpRequest,
    course: Course,
    form: SeriesForm,
    *,
    proposal: SeriesProposal | None = None,
    confirm: SeriesConfirmForm | None = None,
    reasons: tuple[str, ...] = (),
    status: int = 200,
) -> HttpResponse:
    patient = course.patient
    context = {
        "patient": patient,
        "flags": patient_open_flags(patient),
        "course": course,
        "form": form,
        "proposal": proposal,
        "confirm": confirm,
        "reasons": reasons,
        "definition": course.protocol.definition(),
    }
    return render(request, "courses/series.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def series(request: HttpRequest, course_id: UUID) -> HttpResponse:
    """Choose the first session and the chair; the page proposes the rest by the protocol's
    spacing, each date checked (chair open, prescriber on site, chair free); one button books
    them all, or none if any is refused."""
    require(request.user, "session.book")
    course = _course_or_404(request, course_id)
    remaining = bookings.series_remaining(course)
    if request.method == "GET":
        return _series_page(request, course, SeriesForm(remaining=remaining))
    if "starts" in request.POST:
        return _series_confirm(request, course, remaining)
    form = SeriesForm(request.POST, remaining=remaining)
    if not form.is_valid():
        return _series_page(request, course, form, status=422)
    chair = form.cleaned_data["chair"]
    proposal = bookings.series_proposal(
        user=request.user,
        course=course,
        chair=chair,
        first_start=form.cleaned_data["first_start"],
        count=form.cleaned_data["count"],
    )
    choices = [(start.isoformat(), _when(start)) for start in proposal.starts]
    confirm = SeriesConfirmForm(
        initial={"chair": chair.pk, "starts": [value for value, _ in choices]}, choices=choices
    )
    return _series_page(request, course, form, proposal=proposal, confirm=confirm)


def _series_confirm(request: HttpRequest, course: Course, remaining: int) -> HttpResponse:
    posted = request.POST.getlist("starts")[:30]
    confirm = SeriesConfirmForm(request.POST, choices=[(v, _label(v)) for v in posted])
    form = SeriesForm(remaining=remaining)
    if not confirm.is_valid():
        return _series_page(request, course, form, confirm=confirm, status=422)
    try:
        sessions = bookings.series_book(
            acting_user=request.user,
            course=course,
            chair_name=confirm.cleaned_data["chair"].name,
            starts=confirm.cleaned_data["starts"],
        )
    except services.Refused as exc:
        return _series_page(request, course, form, reasons=exc.reasons, status=409)
    except ValidationError as exc:
        service_errors_onto(confirm, exc)
        return _series_page(request, course, form, confirm=confirm, status=422)
    first, last = sessions[0], sessions[-1]
    messages.success(
        request,
        f"{len(sessions)} sessions booked in {first.chair.name}, "
        f"{_when(first.start)} to {_when(last.start)}.",
    )
    return redirect("courses:patient_courses", patient_id=course.patient_id)


# -- free slots ----------------------------------------------------------------------------------


@login_required
@require_GET
def free_slots(request: HttpRequest, day: str) -> HttpResponse:
    the_day = _day_or_404(day)
    require(request.user, "session.book")
    raw = request.GET.get("minutes", "")
    minutes = int(raw) if raw.isdigit() and 1 <= int(raw) <= 600 else 100
    context = {
        "day": the_day,
        "minutes": minutes,
        "rows": bookings.chair_slots_on(request.user, the_day, timedelta(minutes=minutes)),
        "previous": the_day - timedelta(days=1),
        "next": the_day + timedelta(days=1),
        "presence": selectors.presence_on(the_day),
    }
    return render(request, "courses/free_slots.html", context)


# -- one booked session: move, cancel, did not attend --------------------------------------------


def _session_page(
    request: HttpRequest,
    session: Session,
    *,
    bound: dict[str, forms.Form] | None = None,
    reasons: tuple[str, ...] = (),
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    scheduled = session.status == SessionStatus.SCHEDULED
    not_later = timezone.localdate(session.start) <= timezone.localdate()
    patient = session.course.patient
    reschedule = bound.get("reschedule") or RescheduleForm(
        initial={
            "start": timezone.localtime(session.start).replace(tzinfo=None),
            "chair": session.chair_id,
        },
        auto_id="move-%s",
    )
    context = {
        "session": session,
        "patient": patient,
        "flags": patient_open_flags(patient),
        "changes": bookings.session_changes(session),
        "scheduled": scheduled,
        "can_no_show": scheduled and not_later,
        "reschedule": reschedule,
        "cancel": bound.get("cancel") or SessionReasonForm(auto_id="cancel-%s"),
        "no_show": bound.get("no_show") or SessionReasonForm(auto_id="noshow-%s"),
        "refused_form": next(iter(bound), ""),
        "reasons": reasons,
        "can_view_chart": user_can(request.user, "session.view"),
    }
    return render(request, "courses/session.html", context, status=status)


@login_required
@require_GET
def session_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    return _session_page(request, _session_or_404(request, session_id))


def _session_write(
    request: HttpRequest, session_id: UUID, name: str, form: forms.Form, write: Any
) -> HttpResponse:
    require(request.user, "session.book")
    session = _session_or_404(request, session_id, audit=False)
    status = 422
    reasons: tuple[str, ...] = ()
    if form.is_valid():
        try:
            message = write(session, form.cleaned_data)
        except services.Refused as exc:
            status, reasons = 409, exc.reasons
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, message)
            return redirect("courses:session", session_id=session.pk)
    session = _session_or_404(request, session_id, audit=False)
    return _session_page(request, session, bound={name: form}, reasons=reasons, status=status)


@login_required
@require_POST
def session_cancel(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, data: dict[str, Any]) -> str:
        bookings.session_cancel(acting_user=request.user, session=session, reason=data["reason"])
        return f"Session of {_when(session.start)} cancelled; the chair is free again."

    form = SessionReasonForm(request.POST, auto_id="cancel-%s")
    return _session_write(request, session_id, "cancel", form, write)


@login_required
@require_POST
def session_no_show(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, data: dict[str, Any]) -> str:
        bookings.session_no_show(acting_user=request.user, session=session, reason=data["reason"])
        return f"Session of {_when(session.start)} recorded as not attended."

    form = SessionReasonForm(request.POST, auto_id="noshow-%s")
    return _session_write(request, session_id, "no_show", form, write)


@login_required
@require_POST
def session_reschedule(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, data: dict[str, Any]) -> str:
        moved = bookings.session_reschedule(
            acting_user=request.user,
            session=session,
            start=data["start"],
            chair_name=data["chair"].name,
            reason=data["reason"],
        )
        return f"Session moved to {_when(moved.start)} in {moved.chair.name}."

    form = RescheduleForm(request.POST, auto_id="move-%s")
    return _session_write(request, session_id, "reschedule", form, write)


# -- a chair's room and opening hours (the administrator) ---------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def chair_edit(request: HttpRequest, chair_id: int) -> HttpResponse:
    require(request.user, "chair.edit")
    try:
        chair = Chair.objects.get(pk=chair_id)
    except Chair.DoesNotExist:
        raise Http404 from None
    bound = request.POST if request.method == "POST" else None
    form = ChairForm(bound, initial=chair_form_initial(chair))
    form.fields["name"].disabled = True
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.chair_update(
                    acting_user=request.user,
                    chair=chair,
                    room=form.cleaned_data["room"],
                    opening_hours=form.cleaned_data["opening_hours"],
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, f"Chair {chair.name} saved.")
                return redirect("courses:chairs")
    return render(request, "courses/chair_edit.html", {"chair": chair, "form": form}, status=status)
