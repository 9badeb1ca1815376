"""Staff pages for rating scales: enter answers, send a link, start a kiosk session, set
schedules, see what is due, and a patient's trends. The patient's own link pages are in
``views/public.py``."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require, staff_page_only
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user, patient_open_flags
from ketaclinic.scales import instruments, links, schedules, selectors, services, trends
from ketaclinic.scales.forms import (
    AdministeredAtForm,
    InstrumentForm,
    KioskForm,
    LinkForm,
    ScheduleForm,
)
from ketaclinic.scales.instruments import InstrumentUnknown
from ketaclinic.scales.models import Administration, AdministrationMode, Notification


def _patient_or_404(request: HttpRequest, patient_id: UUID, *, audit: bool = True) -> Patient:
    try:
        return patient_get_for_user(request.user, patient_id, audit=audit)
    except Patient.DoesNotExist:
        raise Http404 from None


def _staff_patient(request: HttpRequest, patient_id: UUID, *, audit: bool = True) -> Patient:
    require(request.user, "scales.enter")
    return _patient_or_404(request, patient_id, audit=audit)


def _hub_context(
    request: HttpRequest,
    patient: Patient,
    *,
    link_form: LinkForm | None = None,
    kiosk_form: KioskForm | None = None,
    schedule_form: ScheduleForm | None = None,
) -> dict[str, object]:
    self_codes = links.self_report_codes()
    builtin = instruments.load_builtin()
    return {
        "patient": patient,
        "flags": patient_open_flags(patient),
        "instruments": [builtin[code] for code in instruments.BUILTIN_CODES],
        "link_form": link_form or LinkForm(codes=self_codes),
        "kiosk_form": kiosk_form or KioskForm(codes=self_codes),
        "schedule_form": schedule_form or ScheduleForm(),
        "schedules": schedules.schedules_for_patient(patient),
    }


@login_required
def patient_scales(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _staff_patient(request, patient_id)
    return render(request, "scales/patient.html", _hub_context(request, patient))


@login_required
def administration_enter(request: HttpRequest, patient_id: UUID, code: str) -> HttpResponse:
    patient = _staff_patient(request, patient_id, audit=request.method == "GET")
    try:
        instrument = instruments.get(code)
    except InstrumentUnknown:
        raise Http404 from None
    data = request.POST if request.method == "POST" else None
    form = InstrumentForm(data, instrument=instrument)
    when = AdministeredAtForm(
        data, initial={"administered_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    kept = None
    if data is not None and not form.is_valid() and when.is_valid():
        # Refused (incomplete), but a flag rule holds whatever the total: open it all the same.
        kept = services.incomplete_response_keep(
            acting_user=request.user,
            patient=patient,
            instrument_code=instrument.code,
            answers=form.answers(),
            administered_at=when.cleaned_data["administered_at"],
            mode=AdministrationMode.STAFF_ENTRY,
        )
    if data is not None and form.is_valid() and when.is_valid():
        try:
            administration = services.administration_record(
                acting_user=request.user,
                patient=patient,
                instrument_code=instrument.code,
                answers=form.answers(),
                administered_at=when.cleaned_data["administered_at"],
                mode=AdministrationMode.STAFF_ENTRY,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            form.add_service_errors({k: v for k, v in errors.items() if k != "administered_at"})
            for message in errors.get("administered_at", []):
                when.add_error("administered_at", message)
        else:
            total = "" if administration.total is None else f": total {administration.total}"
            messages.success(request, f"{instrument.name} recorded{total}.")
            return redirect("scales:trends", patient_id=patient.pk)
    status = 422 if data is not None else 200
    return render(
        request,
        "scales/enter.html",
        {
            "patient": patient,
            "flags": patient_open_flags(patient),
            "instrument": instrument,
            "form": form,
            "when": when,
            "flag_raised": services.incomplete_flag_message(kept) if kept else "",
        },
        status=status,
    )


@login_required
@require_POST
def link_create(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _staff_patient(request, patient_id, audit=False)
    form = LinkForm(request.POST, codes=links.self_report_codes())
    if form.is_valid():
        issued = links.patient_link_create(
            acting_user=request.user,
            patient=patient,
            instrument_codes=form.cleaned_data["instruments"],
            hours=form.cleaned_data["hours"],
        )
        url = request.build_absolute_uri(reverse("scales:answer", kwargs={"token": issued.token}))
        # Shown once, in this response only: the token is never stored or logged.
        response = render(
            request,
            "scales/link_created.html",
            {
                "patient": patient,
                "flags": patient_open_flags(patient),
                "url": url,
                "link": issued.link,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    context = _hub_context(request, patient, link_form=form)
    return render(request, "scales/patient.html", context, status=422)


@login_required
@require_POST
def kiosk_start(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _staff_patient(request, patient_id, audit=False)
    form = KioskForm(request.POST, codes=links.self_report_codes())
    if form.is_valid():
        issued = links.kiosk_session_start(
            acting_user=request.user,
            patient=patient,
            instrument_codes=form.cleaned_data["instruments"],
        )
        return redirect("scales:answer", token=issued.token)
    context = _hub_context(request, patient, kiosk_form=form)
    return render(request, "scales/patient.html", context, status=422)


@login_required
@require_POST
def schedule_add(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _staff_patient(request, patient_id, audit=False)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            schedules.schedule_create(
                acting_user=request.user,
                patient=patient,
                instrument_code=data["instrument"],
                rule_kind=data["rule_kind"],
                interval_days=data["interval_days"],
                grace_days=data["grace_days"],
                phase=data["phase"],
                starts_on=data["starts_on"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Schedule added.")
            return redirect("scales:patient", patient_id=patient.pk)
    context = _hub_context(request, patient, schedule_form=form)
    return render(request, "scales/patient.html", context, status=422)


@login_required
def due_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "scales.enter")
    rows = schedules.due_list_for_user(request.user)
    return render(request, "scales/due.html", {"rows": rows, "today": timezone.localdate()})


@login_required
def patient_trends(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    try:
        patient, charts = trends.trends_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "scales/trends.html",
        {
            "patient": patient,
            "flags": patient_open_flags(patient),
            "charts": charts,
            "chart_data": [trend.chart for trend in charts],
        },
    )


@login_required
def administration_answers(
    request: HttpRequest, patient_id: UUID, administration_id: UUID
) -> HttpResponse:
    staff_page_only(request.user)
    try:
        administration, rows = trends.administration_get_for_user(
            request.user, patient_id, administration_id
        )
    except (Patient.DoesNotExist, Administration.DoesNotExist):
        raise Http404 from None
    template = (
        "scales/_answers.html" if request.headers.get("HX-Request") else "scales/answers.html"
    )
    context = {"administration": administration, "rows": rows}
    if template == "scales/answers.html":
        context["patient"] = administration.patient
        context["flags"] = patient_open_flags(administration.patient)
    return render(request, template, context)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's inbox (safety flags opened, ...)."""
    require(request.user, "patient.view_any")
    rows = selectors.notifications_for_user(request.user)
    unread = sum(1 for row in rows if row.read_at is None)
    return render(request, "scales/notifications.html", {"rows": rows, "unread": unread})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int | None = None) -> HttpResponse:
    """Mark one notification (or, without an id, all of them) read; back to the inbox."""
    require(request.user, "patient.view_any")
    try:
        services.notification_mark_read(acting_user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    return redirect("scales:notifications")
