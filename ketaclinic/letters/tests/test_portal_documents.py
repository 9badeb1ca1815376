"""The patient's documents in the portal: their signed consent copies, discharge instructions
after each session, and their copy of each sent letter; another patient's ids answer 404,
exactly as ids that do not exist; every download audited."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone, translation

from ketaclinic.audit.models import AuditEvent
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.tests.chart_driver import consent_signed
from ketaclinic.letters.printing.discharge import (
    DischargeFacts,
    discharge_lines,
    discharge_pdf_bytes,
)
from ketaclinic.letters.services.letters import letter_draft, letter_sign
from ketaclinic.letters.tests.records import course_make, gp_make, signed_letter
from ketaclinic.testing import Clinic, pdf_text

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return pdf_text(pdf).replace("\\(", "(").replace("\\)", ")")


def test_the_documents_page_lists_consents_sessions_and_sent_letters(clinic: Clinic) -> None:
    consent_signed(clinic)
    letter = signed_letter(clinic)
    page = clinic.client("pat").get("/portal/documents/")
    assert page.status_code == 200
    html = page.content.decode()
    signature = ConsentSignature.objects.filter(patient=clinic.pat).first()
    assert signature is not None
    assert f"/intake/consents/{signature.pk}/pdf/" in html
    assert f"/portal/documents/letters/{letter.pk}/" in html
    assert "Sent to Dr Hal Moss" in html
    session = Session.objects.filter(course__patient=clinic.pat).order_by("-start").first()
    assert session is not None and f"/portal/documents/sessions/{session.pk}/after/" in html
    # plain words: no record number or staff labels
    assert clinic.pat.mrn not in html and "MRN" not in html
    assert clinic.client("pat").get("/portal/").content.decode().count("/portal/documents/") >= 2


def test_a_draft_or_unsent_letter_is_not_the_patients_yet(clinic: Clinic) -> None:
    course_make(clinic)
    ada = clinic.users["ada"]
    recipient = gp_make(clinic)
    draft = letter_draft(acting_user=ada, patient=clinic.pat, kind="induction", recipient=recipient)
    unsent = letter_sign(
        acting_user=ada,
        letter=letter_draft(
            acting_user=ada, patient=clinic.pat, kind="induction", recipient=recipient
        ),
    )
    pat = clinic.client("pat")
    for letter in (draft, unsent):
        assert pat.get(f"/portal/documents/letters/{letter.pk}/").status_code == 404
        assert str(letter.pk) not in pat.get("/portal/documents/").content.decode()


def test_the_patients_letter_copy_is_the_signed_pdf_and_the_download_is_audited(
    clinic: Clinic,
) -> None:
    letter = signed_letter(clinic)
    response = clinic.client("pat").get(f"/portal/documents/letters/{letter.pk}/")
    assert response.status_code == 200 and response.content == bytes(letter.pdf or b"")
    assert AuditEvent.objects.filter(
        object_type="Letter", object_id=str(letter.pk), action="R", actor=clinic.users["pat"]
    ).exists()


def test_discharge_instructions_come_from_the_protocol_in_plain_words(clinic: Clinic) -> None:
    course_make(clinic)
    session = Session.objects.filter(course__patient=clinic.pat).first()
    assert session is not None
    response = clinic.client("pat").get(f"/portal/documents/sessions/{session.pk}/after/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    assert f"For {clinic.pat.display_name}" in text
    assert "An adult must take you home" in text  # the protocol's escort rule
    assert "Do not drive, cycle or use machines until the next day" in text
    assert "call the clinic on 555-0100" in text
    assert "988" in text and "911" in text
    assert AuditEvent.objects.filter(
        object_type="Session", object_id=str(session.pk), action="R", actor=clinic.users["pat"]
    ).exists()


def test_discharge_instructions_in_spanish() -> None:
    """The patient's language (the portal activates it; h15-i18n) gives the Spanish copy."""
    facts = DischargeFacts(
        clinic_name="KetaClinic Demo Clinic",
        clinic_address="1 Example Street",
        clinic_phone="555-0100",
        patient_name="Pat Example",
        session_day="2026-12-03",
        escort_required=True,
        no_driving_until_next_day=True,
    )
    with translation.override("es"):
        lines = discharge_lines(facts)
        text = _text(discharge_pdf_bytes(facts, created=timezone.now()))
    assert "Un adulto debe llevarle a casa y acompañarle durante el trayecto." in lines
    assert any("555-0100" in line and "llame a la clínica" in line for line in lines)
    assert "Qué hacer después de su sesión" in text
    assert "988" in text and "911" in text


def test_another_patients_documents_answer_404_like_missing_ones(clinic: Clinic) -> None:
    letter = signed_letter(clinic, clinic.quinn)
    quinns_session = Session.objects.filter(course__patient=clinic.quinn).first()
    assert quinns_session is not None
    pat = clinic.client("pat")
    for url in (
        f"/portal/documents/letters/{letter.pk}/",
        f"/portal/documents/letters/{uuid.uuid4()}/",
        f"/portal/documents/sessions/{quinns_session.pk}/after/",
        f"/portal/documents/sessions/{uuid.uuid4()}/after/",
    ):
        assert pat.get(url).status_code == 404, url
    html = pat.get("/portal/documents/").content.decode()
    assert str(letter.pk) not in html and str(quinns_session.pk) not in html
    assert clinic.quinn.given_name not in html


def test_staff_get_403_on_the_patients_documents(clinic: Clinic) -> None:
    letter = signed_letter(clinic)
    for who in ("ada", "ben", "cleo", "dana"):
        client = clinic.client(who)
        assert client.get("/portal/documents/").status_code == 403
        assert client.get(f"/portal/documents/letters/{letter.pk}/").status_code == 403
