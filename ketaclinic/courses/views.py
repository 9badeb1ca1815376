from __future__ import annotations

import re
from datetime import date, timedelta
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require, user_can
from ketaclinic.courses import selectors, services
from ketaclinic.courses.forms import PresenceForm, ProtocolVersionForm
from ketaclinic.courses.models import Protocol
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
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Version {created.version} saved and now in use.")
            return redirect("courses:protocol", protocol_id=created.pk)
    context = {
        "protocol": protocol,
        "form": form,
        "next_version": services.protocol_next_version_number(protocol.code),
    }
    return render(request, "courses/protocol_form.html", context)


@login_required
def patient_courses(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    try:
        patient = patient_get_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None
    context = {
        "patient": patient,
        "flags": patient_open_flags(patient),
        "courses": selectors.courses_list_for_patient(request.user, patient),
        "is_staff": user_can(request.user, "patient.view_any"),
    }
    return render(request, "courses/patient_courses.html", context)


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
    }
    return render(request, "courses/schedule_week.html", context)
