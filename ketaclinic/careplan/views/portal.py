"""The patient's own care plan, in the portal: the last signed version, in plain words. A
patient sees only their own (there is no id in the address); staff get 403 here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from ketaclinic.accounts.access import user_can
from ketaclinic.careplan import selectors
from ketaclinic.careplan.views.staff import version_context

# The six Stanley-Brown steps (careplan/rules/safety_plan.py) as the patient reads them.
PORTAL_PROMPTS = {
    "warning_signs": _("Signs that a crisis may be starting"),
    "coping": _("Things I can do on my own to feel calmer"),
    "distraction": _("People and places that take my mind off things"),
    "help_people": _("People I can ask for help"),
    "professionals": _("Professionals and services I can call"),
    "environment": _("How I keep myself safe"),
}


@login_required
def plan(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, "careplan.view_own"):
        raise PermissionDenied("careplan.view_own")
    patient, version = selectors.own_signed_plan(request.user)
    context: dict[str, object] = {
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
        "patient": patient,
        "tab": "careplan",
        "signed": version,
    }
    if version is not None:
        shown = version_context(request.user, patient, version)
        context.update(shown)
        context["portal_safety"] = [
            (PORTAL_PROMPTS[section.key], items) for section, items in shown["safety_sections"]
        ]
    return render(request, "careplan/portal_plan.html", context)
