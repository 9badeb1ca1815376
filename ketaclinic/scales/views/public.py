"""The questionnaire link a patient opens on their phone, or staff open on the kiosk tablet.

No login: the random token in the URL is the only key, and it names no patient. Each address
is rate-limited (in the database, so that every server process counts). A used or expired
link answers 410 Gone and stores nothing. The patient is the link's, whatever is posted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.audit.middleware import client_address
from ketaclinic.lib.link_pages import patient_link_page
from ketaclinic.scales import instruments, links
from ketaclinic.scales.forms import InstrumentForm, validation_errors_for
from ketaclinic.scales.instruments import translations
from ketaclinic.scales.models import LinkMode, PatientLink


def _gone(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "scales/link_gone.html", {"reason": reason}, status=status)


def _forms(link: PatientLink, data: object = None) -> list[InstrumentForm]:
    # The official translation in the visitor's language where one exists, else English.
    return [
        InstrumentForm(data, instrument=_shown(instruments.get(code))) for code in link.instruments
    ]


def _shown(instrument: instruments.Instrument) -> instruments.Instrument:
    return translations.localised(instrument, get_language()) or instrument


@patient_link_page
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    if not links.rate_limit_allows(f"link:{client_address(request)}"):
        response = _gone(request, "too_many", 429)
        response["Retry-After"] = str(int(links.RATE_WINDOW.total_seconds()))
        return response
    try:
        link = links.patient_link_find(token)
    except links.LinkUnknown:
        return _gone(request, "unknown", 404)
    if link.used_at is not None:
        return _gone(request, "used", 410)
    if not link.is_usable():
        return _gone(request, "expired", 410)

    kiosk = link.mode == LinkMode.KIOSK
    forms = _forms(link, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if all(form.is_valid() for form in forms):
            try:
                links.patient_link_answer(
                    token=token,
                    answers_by_instrument={f.instrument.code: f.answers() for f in forms},
                )
            except links.LinkGone:
                return _gone(request, "used", 410)
            except links.LinkUnknown:
                return _gone(request, "unknown", 404)
            except ValidationError as exc:
                for form in forms:
                    form.add_service_errors(validation_errors_for(form.instrument.code, exc))
            else:
                return render(request, "scales/link_done.html", {"kiosk": kiosk})
        # Refused, but an urgent flag rule holds whatever the total: the care team is told.
        links.patient_link_incomplete_keep(
            token=token, answers_by_instrument={f.instrument.code: f.answers() for f in forms}
        )
        status = 422
    context = {"forms": forms, "kiosk": kiosk, "has_errors": any(form.errors for form in forms)}
    return render(request, "scales/answer.html", context, status=status)
