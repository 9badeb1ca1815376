"""Inbound referrals: recorded on an inquiry with the referrer's PDF (checked by its bytes, size
limited, name sanitised), carried to the patient record at conversion, downloaded only by
staff through an audited view."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ketaclinic.audit.models import AuditEvent
from ketaclinic.intake.models import Inquiry
from ketaclinic.intake.services import inquiry_convert
from ketaclinic.letters.models import Recipient, RecipientKind, Referral
from ketaclinic.letters.services.referrals import (
    REFERRAL_MAX_BYTES,
    pdf_checked,
    referral_record,
    safe_file_name,
)
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _inquiry() -> Inquiry:
    return Inquiry.objects.create(
        name="Rae Referred", email="rae@example.org", consent_to_contact=True
    )


def _form(**extra: object) -> dict[str, object]:
    return {
        "referrer_name": "Dr Gail Greene",
        "referrer_role": "gp",
        "referrer_organisation": "Demo Street Practice",
        "referrer_email": "gail@practice.example",
        "reason": "GAD not helped by sertraline and CBT.",
        "received_on": "2026-12-01",
        **extra,
    }


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("GP letter.pdf", "GP_letter.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\x\\Überweisung (1).PDF", "berweisung_1.pdf"),
        ("", "referral-letter.pdf"),
        ("..", "referral-letter.pdf"),
        ('a"b;c.pdf', "abc.pdf"),
    ],
)
def test_file_names_are_sanitised(raw: str, safe: str) -> None:
    assert safe_file_name(raw) == safe


def test_the_type_is_read_from_the_bytes_and_the_size_is_limited() -> None:
    pdf_checked(PDF)
    for bad in (b"", b"GIF89a....", b"<html>%PDF-", b"%PDF-" + b"x" * REFERRAL_MAX_BYTES):
        with pytest.raises(ValidationError):
            pdf_checked(bad)


def test_intake_records_a_referral_with_its_letter_from_the_inquiry_page(clinic: Clinic) -> None:
    inquiry = _inquiry()
    cleo = clinic.client("cleo")
    upload = SimpleUploadedFile("GP letter.pdf", PDF, content_type="application/pdf")
    response = cleo.post(f"/letters/inquiries/{inquiry.pk}/referrals/", _form(letter=upload))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.letter_name == "GP_letter.pdf" and bytes(referral.letter_pdf or b"") == PDF
    assert referral.patient_id is None
    page = cleo.get(f"/intake/inquiries/{inquiry.pk}/").content.decode()
    assert f"/letters/inquiries/{inquiry.pk}/referrals/" in page


def test_a_file_that_is_not_a_pdf_is_refused_whatever_its_name(clinic: Clinic) -> None:
    inquiry = _inquiry()
    upload = SimpleUploadedFile(
        "letter.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = clinic.client("cleo").post(
        f"/letters/inquiries/{inquiry.pk}/referrals/", _form(letter=upload)
    )
    assert response.status_code == 422
    assert "not a PDF" in response.content.decode()
    assert not Referral.objects.exists()


def test_conversion_carries_the_referral_to_the_record_and_the_referrer_becomes_a_recipient(
    clinic: Clinic,
) -> None:
    inquiry = _inquiry()
    referral = referral_record(
        acting_user=clinic.users["cleo"],
        inquiry=inquiry,
        referrer_name="Dr Gail Greene",
        referrer_role="gp",
        reason="GAD",
        received_on=date(2026, 12, 1),
        referrer_email="gail@practice.example",
        letter=PDF,
        letter_name="x.pdf",
    )
    patient = inquiry_convert(
        acting_user=clinic.users["cleo"],
        inquiry=inquiry,
        given_name="Rae",
        family_name="Referred",
        birth_date=date(1990, 5, 6),
        sex_at_birth="female",
    )
    referral.refresh_from_db()
    assert referral.patient_id == patient.pk
    recipient = Recipient.objects.get(patient=patient)
    assert (recipient.kind, recipient.name, recipient.email) == (
        RecipientKind.REFERRER,
        "Dr Gail Greene",
        "gail@practice.example",
    )
    assert AuditEvent.objects.filter(
        object_type="Referral", object_id=str(referral.pk), action="U", patient_id=patient.pk
    ).exists()
    # The patient's staff summary shows it.
    page = clinic.client("ben").get(f"/patients/{patient.pk}/").content.decode()
    assert "Referred by Dr Gail Greene" in page


def test_the_referral_letter_downloads_for_staff_only_and_each_download_is_audited(
    clinic: Clinic,
) -> None:
    referral = referral_record(
        acting_user=clinic.users["cleo"],
        inquiry=_inquiry(),
        referrer_name="Dr Gail Greene",
        referrer_role="gp",
        reason="GAD",
        received_on=date(2026, 12, 1),
        letter=PDF,
        letter_name="Gail Greene's letter about Rae.pdf",
    )
    url = f"/letters/referrals/{referral.pk}/pdf/"
    response = clinic.client("cleo").get(url)
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="referral-{referral.pk}.pdf"'
    assert AuditEvent.objects.filter(
        object_type="Referral", object_id=str(referral.pk), action="R", actor=clinic.users["cleo"]
    ).exists()
    assert clinic.client("pat").get(url).status_code == 404
    assert clinic.client(None).get(url).status_code == 302


def test_the_records_referring_provider_is_offered_as_the_first_recipient(clinic: Clinic) -> None:
    clinic.pat.referring_provider = "Dr Ivo Referrer, Hill Clinic"
    clinic.pat.save(update_fields=["referring_provider"])
    page = clinic.client("ada").get(f"/letters/patients/{clinic.pat.pk}/").content.decode()
    assert 'value="Dr Ivo Referrer, Hill Clinic"' in page
    response = clinic.client("ada").post(
        f"/letters/patients/{clinic.pat.pk}/recipients/",
        {"recipient-kind": "referrer", "recipient-name": "Dr Ivo Referrer"},
    )
    assert response.status_code == 302
    assert Recipient.objects.get(patient=clinic.pat).kind == RecipientKind.REFERRER
