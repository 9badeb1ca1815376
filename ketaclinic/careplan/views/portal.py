"""The patient's own care plan, in the portal: the last signed version, in plain words. A
patient sees only their own (there is no id in the address); staff get 403 here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.access import user_can
from ketaclinic.careplan import selectors
from ketaclinic.careplan.views.staff import version_context


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
        context.update(version_context(request.user, patient, version))
    return render(request, "careplan/portal_plan.html", context)
