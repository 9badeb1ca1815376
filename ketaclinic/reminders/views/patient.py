"""The patient's reminder settings, in the portal's layout: channels and quiet hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from ketaclinic.portal import selectors as portal_selectors
from ketaclinic.portal.views.patient import patient_page
from ketaclinic.portal.views.rendering import portal_render
from ketaclinic.reminders import services
from ketaclinic.reminders.forms import PreferenceForm


@patient_page
def preferences(request: HttpRequest) -> HttpResponse:
    patient = portal_selectors.own_patient(request.user)
    current = services.preference_for(patient)
    form = PreferenceForm(
        request.POST or None,
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
    return portal_render(
        request,
        "reminders/preferences.html",
        {"form": form, "patient": patient, "tab": "contact", "saved": current.pk is not None},
    )
