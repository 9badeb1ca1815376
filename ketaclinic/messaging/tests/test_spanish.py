"""The messages' Spanish catalogue: the notice e-mail and the portal pages."""

from __future__ import annotations

from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from ketaclinic.messaging.services.notices import patient_notice
from ketaclinic.portal.models import LanguagePreference
from ketaclinic.testing import Clinic


def test_the_notice_email_in_spanish_holds_no_content(clinic: Clinic) -> None:
    LanguagePreference.objects.create(patient=clinic.pat, language="es")
    patient_notice(patient_id=clinic.pat.pk, portal_link="https://clinic.example/portal/")
    (notice,) = mail.outbox
    assert notice.subject == "Un mensaje nuevo de KetaClinic Demo Clinic"
    assert "Tiene un mensaje nuevo de KetaClinic Demo Clinic." in notice.body
    assert "Inicie sesión para leerlo: https://clinic.example/portal/" in notice.body


def test_the_notice_is_in_the_patients_language_not_the_writers(clinic: Clinic) -> None:
    """A nurse whose page happens to be in Spanish writes to a patient who never chose a
    language: the notice is in the clinic's language, English."""
    with translation.override("es"):
        patient_notice(patient_id=clinic.pat.pk, portal_link="https://clinic.example/portal/")
    (notice,) = mail.outbox
    assert notice.subject == "A new message from KetaClinic Demo Clinic"


def test_the_crisis_notice_in_spanish_keeps_988_and_911(clinic: Clinic) -> None:
    request = RequestFactory().get("/")
    with translation.override("es"):
        html = render_to_string("messaging/_crisis.html", {}, request=request)
    assert "Llame al 911" in html and "Llame al 988" in html
    assert 'href="tel:988"' in html and 'href="tel:911"' in html
