"""The patient's documents: their signed consent copies, the discharge instructions of each
session they went home from, and their copy of each letter about them that was sent. Every
download is the patient's own (any other id answers 404) and audited."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from ketaclinic.consent import selectors as consent_selectors
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.protocols import ProtocolDataError
from ketaclinic.letters import selectors as letter_selectors
from ketaclinic.letters.models import Letter
from ketaclinic.letters.printing.discharge import DischargeFacts, discharge_pdf_bytes
from ketaclinic.portal import selectors
from ketaclinic.portal.views.patient import patient_page
from ketaclinic.portal.views.rendering import portal_render


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@patient_page
def documents(request: HttpRequest) -> HttpResponse:
    patient = selectors.own_patient(request.user)
    context = {
        "patient": patient,
        "consents": consent_selectors.consent_signature_lines_for_patient(request.user, patient),
        "sessions": letter_selectors.own_discharged_sessions(request.user, patient.pk),
        "letters": letter_selectors.own_sent_letters(request.user, patient.pk),
        "tab": "documents",
    }
    return portal_render(request, "portal/documents.html", context)


@patient_page
def letter_pdf(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """The patient's copy of a sent letter: the PDF as signed."""
    patient_id = selectors.own_patient_id(request.user)
    try:
        letter = letter_selectors.letter_get_for_user(request.user, letter_id)
    except Letter.DoesNotExist:
        raise Http404 from None
    if letter.patient_id != patient_id or letter.pdf is None:
        raise Http404
    return _pdf(bytes(letter.pdf), f"letter-{letter.pk}.pdf")


@patient_page
def discharge_pdf(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """What to do after the session, from the protocol (in the patient's language)."""
    patient_id = selectors.own_patient_id(request.user)
    try:
        session = letter_selectors.own_discharged_session(request.user, patient_id, session_id)
    except Session.DoesNotExist:
        raise Http404 from None
    escort, no_driving = True, True
    try:
        definition = session.course.protocol.definition()
    except ProtocolDataError:
        pass  # the safe defaults: an escort, no driving
    else:
        escort = definition.discharge.escort_required.value
        if definition.preparation is not None:
            no_driving = definition.preparation.no_driving_until_next_day.value
    patient = session.course.patient
    facts = DischargeFacts(
        clinic_name=settings.KETACLINIC_CLINIC_NAME,
        clinic_address=settings.KETACLINIC_CLINIC_ADDRESS,
        clinic_phone=settings.KETACLINIC_CLINIC_PHONE,
        patient_name=patient.display_name,
        session_day=f"{timezone.localtime(session.start):%Y-%m-%d}",
        escort_required=escort,
        no_driving_until_next_day=no_driving,
    )
    pdf = discharge_pdf_bytes(facts, created=session.start)
    return _pdf(pdf, f"after-your-session-{session.pk}-{get_language() or 'en'}.pdf")
