from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import user_can
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.patients.views import patient_own_context


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("two_factor:login")
    if user_can(request.user, "patient.view_any"):
        return redirect("patients:list")
    if user_can(request.user, "patient.view_own"):
        return redirect("web:me")
    return render(request, "web/home.html")


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """A patient's own record."""
    patient_id = getattr(request.user, "patient_id", None)
    if not user_can(request.user, "patient.view_own") or patient_id is None:
        raise Http404
    patient = patient_get_for_user(request.user, patient_id)
    return render(request, "patients/detail.html", patient_own_context(patient))


def healthz(request: HttpRequest) -> HttpResponse:
    """For the proxy's health check: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
