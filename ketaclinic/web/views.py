from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import user_can
from ketaclinic.lib.link_pages import is_patient_link_page


def home(request: HttpRequest) -> HttpResponse:
    """The one front door: the public site for visitors, the role's Today page for staff, the
    patient's own page for patients."""
    if not request.user.is_authenticated:
        return redirect("site:home")
    if user_can(request.user, "patient.view_any"):
        return redirect("today:home")
    if user_can(request.user, "patient.view_own"):
        return redirect("portal:home")
    if user_can(request.user, "integration.write"):  # the integration therapist's patients
        return redirect("careplan:therapist_home")
    return render(request, "web/home.html")


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The old address of a patient's own record: their portal now (never the staff page)."""
    patient_id = getattr(request.user, "patient_id", None)
    if not user_can(request.user, "patient.view_own") or patient_id is None:
        raise Http404
    return redirect("portal:home")


def healthz(request: HttpRequest) -> HttpResponse:
    """For the proxy's health check: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a post the CSRF check refused (the page was open too long, the browser
    lost its cookie). The clinic's page says that nothing was saved and what to do next; on a
    patient's link page in the bare patient layout, without the token or anything about them.
    Django's ``reason`` is for the log (Django logs it), not for the person."""
    patient_link = is_patient_link_page(request)
    context = {
        "base_template": "scales/bare.html" if patient_link else "base.html",
        "patient_link": patient_link,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
        # The refused post's address may hold a patient link's token: the language switch
        # must not write it into the page (it goes back by the Referer instead).
        "language_next_hidden": True,
    }
    return render(request, "web/csrf_failure.html", context, status=403)
