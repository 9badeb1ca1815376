"""Staff: a patient's reminder history, and the deliveries that need a look."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.access import require, staff_page_only, user_can
from ketaclinic.patients.models import Patient
from ketaclinic.reminders import selectors, services
from ketaclinic.reminders.forms import HandledForm


@login_required
@require_GET
def patient_history(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    try:
        patient, rows = selectors.deliveries_for_patient(request.user, patient_id)
    except Patient.DoesNotExist as missing:
        raise Http404 from missing
    preference = services.preference_for(patient)
    return render(
        request,
        "reminders/patient_history.html",
        {"patient": patient, "rows": rows, "preference": preference},
    )


@login_required
@require_GET
def attention(request: HttpRequest) -> HttpResponse:
    return _attention_page(request)


def _attention_page(
    request: HttpRequest, *, refused: UUID | None = None, form: HandledForm | None = None
) -> HttpResponse:
    rows = selectors.deliveries_needing_attention(request.user)
    return render(
        request,
        "reminders/attention.html",
        {
            "rows": rows,
            "may_act": user_can(request.user, "patient.change"),
            "refused": refused,
            "form": form,
        },
        status=422 if form is not None else 200,
    )


_GONE = "That reminder is no longer on the list (someone else acted on it, or it went out)."


@login_required
@require_POST
def send_again(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    try:
        services.delivery_send_again(request.user, delivery_id)
    except services.NotOnTheList:
        messages.warning(request, _GONE)
    else:
        messages.success(
            request,
            "It will be sent again on the worker's next run (outside the patient's quiet "
            "hours, and not after the appointment).",
        )
    return redirect("reminders:attention")


@login_required
@require_POST
def mark_handled(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    form = HandledForm(request.POST)
    if not form.is_valid():
        require(request.user, "patient.change")
        return _attention_page(request, refused=delivery_id, form=form)
    try:
        services.delivery_mark_handled(request.user, delivery_id, form.cleaned_data["note"])
    except services.NotOnTheList:
        messages.warning(request, _GONE)
    else:
        messages.success(request, "Taken off the list, with your note.")
    return redirect("reminders:attention")
