"""The patient's own pages. Each one is for a signed-in patient and their own record only:
staff get 403 here (their pages are elsewhere), and any id that is not the patient's own
answers 404, exactly like an id that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import user_can
from ketaclinic.infusions.models import Session
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.portal import explain, selectors
from ketaclinic.portal.forms import ContactForm, RideForm
from ketaclinic.portal.services import contact, rides
from ketaclinic.portal.views.rendering import portal_render
from ketaclinic.scales import instruments, trends
from ketaclinic.scales import services as scale_services
from ketaclinic.scales.forms import InstrumentForm
from ketaclinic.scales.instruments import InstrumentUnknown, translations
from ketaclinic.scales.models import AdministrationMode
from ketaclinic.scales.selectors import patient_self_report_support_needed

View = Callable[..., HttpResponse]


def patient_page(view: View) -> View:
    """Signed in, and a patient with a record: else 403 (staff) or the sign-in page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_can(request.user, "patient.view_own"):
            raise PermissionDenied("patient.view_own")
        return view(request, *args, **kwargs)

    return wrapped


@patient_page
def home(request: HttpRequest) -> HttpResponse:
    patient = selectors.own_patient(request.user)
    context = {
        "patient": patient,
        "coming": selectors.coming_sessions(request.user),
        "due": selectors.due_questionnaires(request.user),
        "support": patient_self_report_support_needed(patient),
        "tab": "home",
    }
    return portal_render(request, "portal/home.html", context)


@patient_page
@require_http_methods(["GET", "POST"])
def ride(request: HttpRequest, session_id: UUID) -> HttpResponse:
    try:
        row = selectors.coming_session(request.user, session_id)
    except Session.DoesNotExist:
        raise Http404 from None
    initial = {"escort_name": row.ride.escort_name if row.ride else ""}
    form = RideForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rides.ride_confirm(
                    acting_user=request.user,
                    session_id=row.session.pk,
                    escort_name=form.cleaned_data["escort_name"],
                )
            except Session.DoesNotExist:
                raise Http404 from None
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, _("Thank you: your ride home is confirmed."))
                return redirect("portal:home")
        status = 422
    return portal_render(
        request, "portal/ride.html", {"row": row, "form": form, "tab": "home"}, status=status
    )


def _due_instrument(request: HttpRequest, code: str) -> instruments.Instrument:
    """A questionnaire the patient has due now; 404 for any other code."""
    for row in selectors.due_questionnaires(request.user):
        if row.instrument.code == code:
            return row.instrument
    raise Http404


@patient_page
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, code: str) -> HttpResponse:
    try:
        instruments.get(code)
    except InstrumentUnknown:
        raise Http404 from None
    instrument = _due_instrument(request, code)
    patient = selectors.own_patient(request.user)
    data = request.POST if request.method == "POST" else None
    # The official translation where one exists; else the English form with a note. The
    # answers are scored by the instrument's own definition whichever wording was shown.
    shown = translations.localised(instrument, get_language())
    form = InstrumentForm(data, instrument=shown or instrument)
    flag_raised = ""
    if data is not None:
        if form.is_valid():
            try:
                scale_services.administration_record(
                    acting_user=request.user,
                    patient=patient,
                    instrument_code=instrument.code,
                    answers=form.answers(),
                    administered_at=timezone.now(),
                    mode=AdministrationMode.PATIENT_SELF,
                )
            except ValidationError as exc:
                form.add_service_errors(
                    {k: v for k, v in exc.message_dict.items() if k != "administered_at"}
                )
            else:
                return redirect("portal:questionnaire_done")
        else:
            # Refused (a question left out), but an urgent answer holds whatever the total
            # (PHQ-9 item 9): the care team is told all the same, as on the link page.
            kept = scale_services.incomplete_response_keep(
                acting_user=request.user,
                patient=patient,
                instrument_code=instrument.code,
                answers=form.answers(),
                administered_at=timezone.now(),
                mode=AdministrationMode.PATIENT_SELF,
            )
            flag_raised = "yes" if kept is not None and kept.flags else ""
    context = {
        "instrument": instrument,
        "form": form,
        "has_errors": bool(form.errors),
        "english_only": shown is None,
        "support": bool(flag_raised) or patient_self_report_support_needed(patient),
        "tab": "questionnaires",
    }
    return portal_render(
        request, "portal/questionnaire.html", context, status=422 if data is not None else 200
    )


@patient_page
def questionnaire_done(request: HttpRequest) -> HttpResponse:
    patient = selectors.own_patient(request.user)
    context = {
        "support": patient_self_report_support_needed(patient),
        "due": selectors.due_questionnaires(request.user),
        "tab": "questionnaires",
    }
    return portal_render(request, "portal/questionnaire_done.html", context)


@patient_page
def scores(request: HttpRequest) -> HttpResponse:
    patient_id = selectors.own_patient_id(request.user)
    _patient, found = trends.trends_for_user(request.user, patient_id)
    context = {"trends": explain.self_reported(found), "tab": "scores"}
    return portal_render(request, "portal/scores.html", context)


@patient_page
@require_http_methods(["GET", "POST"])
def contact_details(request: HttpRequest) -> HttpResponse:
    patient = selectors.own_patient(request.user)
    initial = {name: getattr(patient, name) for name in contact.CONTACT_FIELDS}
    form = ContactForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = contact.contact_update(
                    acting_user=request.user,
                    # A field the request did not send is left as it is: only a field sent
                    # empty clears it (a truncated or scripted post loses nothing).
                    changes={
                        name: form.cleaned_data[name]
                        for name in contact.CONTACT_FIELDS
                        if name in request.POST
                    },
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                text = _("Your details were saved.") if changed else _("Nothing was changed.")
                messages.success(request, text)
                return redirect("portal:contact")
        status = 422
    context = {"patient": patient, "form": form, "tab": "contact"}
    return portal_render(request, "portal/contact.html", context, status=status)
