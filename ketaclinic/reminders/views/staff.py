"""Staff: a patient's reminder history, and the deliveries that need a look."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketaclinic.accounts.access import staff_page_only
from ketaclinic.patients.models import Patient
from ketaclinic.reminders import selectors, services


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
    rows = selectors.deliveries_needing_attention(request.user)
    return render(request, "reminders/attention.html", {"rows": rows})
