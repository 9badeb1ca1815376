"""The patient's reminder settings, in the portal's layout: channels and quiet hours."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from ketaclinic.accounts.access import user_can
from ketaclinic.portal import selectors as portal_selectors
from ketaclinic.reminders import services
from ketaclinic.reminders.forms import PreferenceForm


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """A signed-in patient's own settings (staff 403: the portal is the patient's)."""
    if not user_can(request.user, "patient.view_own"):
        raise PermissionDenied("patient.view_own")
    patient = portal_selectors.own_patient(request.user)
    current = services.preference_for(patient)
    form = PreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={
            "email": current.email,
            "sms": current.sms,
            "quiet_start": current.quiet_start,
            "quiet_end": current.quiet_end,
        },
        has_email=bool(patient.email),
        has_phone=bool(patient.phone),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.preference_set(
            acting_user=request.user,
            patient=patient,
            email=bool(data["email"]),
            sms=bool(data["sms"]),
            quiet_start=data["quiet_start"],
            quiet_end=data["quiet_end"],
        )
        messages.success(request, gettext("Your reminder settings are saved."))
        return redirect("reminders_portal:preferences")
    context = {
        "form": form,
        "patient": patient,
        "tab": "contact",
        "saved": current.pk is not None,
        # What every portal page shows (portal/views/rendering.py does the same).
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
    }
    return render(request, "reminders/preferences.html", context)
