from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import require, user_can
from ketaclinic.patients import selectors, services
from ketaclinic.patients.forms import PatientForm
from ketaclinic.patients.models import Patient


def _patient_or_404(request: HttpRequest, patient_id: UUID, *, audit: bool = True) -> Patient:
    try:
        return selectors.patient_get_for_user(request.user, patient_id, audit=audit)
    except Patient.DoesNotExist:
        raise Http404 from None


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    # The search is POSTed so that a patient's name never lands in a URL or an access log.
    query = request.POST.get("q", "")[:100] if request.method == "POST" else ""
    patients = selectors.patient_list_for_user(request.user, query)
    context = {
        "patients": patients,
        "q": query,
        "can_create": user_can(request.user, "patient.create"),
    }
    template = "patients/_rows.html" if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, context)


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "patient.create")
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Patient record created.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": None})


@login_required
def patient_detail(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _patient_or_404(request, patient_id)
    context = {
        "patient": patient,
        "flags": selectors.patient_open_flags(patient),
        "can_edit": user_can(request.user, "patient.change"),
    }
    return render(request, "patients/detail.html", context)


@login_required
def patient_edit(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _patient_or_404(request, patient_id, audit=request.method == "GET")
    require(request.user, "patient.change")
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.patient_update(acting_user=request.user, patient=patient, changes=changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Patient record saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "flags": selectors.patient_open_flags(patient)},
    )
