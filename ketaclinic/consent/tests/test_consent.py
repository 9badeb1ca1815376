"""Informed consent: witnessed through the API, on the tablet, through a single-use link; PDF."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentLink, ConsentSignature, SignatureMethod
from ketaclinic.eligibility.tests.eligibility_helpers import (
    blank_png,
    current_documents,
    post_json,
    signature_png,
)
from ketaclinic.testing import Clinic, pdf_text


def _sign_form(name: str = "Pat Example", image: str | None = None) -> dict[str, Any]:
    return {"signed_name": name, "signature": image or signature_png(), "agree": "on"}


def test_the_shipped_documents_are_current_and_listed(clinic: Clinic) -> None:
    documents = current_documents()
    assert [d.code for d in documents] == ["data_recording", "ketamine_treatment"]
    treatment = documents[1]
    for topic in ("Off-label use", "side effects", "Monitoring", "Getting home", "record"):
        assert topic.lower() in treatment.body.lower() + documents[0].body.lower()
    assert treatment.digest == consent_services.consent_document_digest_of(treatment)
    for username in ("ada", "ben", "cleo", "dana", "pat"):
        response = clinic.api(username).get("/api/v1/consent-documents")
        assert response.status_code == 200
        assert [d["id"] for d in response.json()] == [d.pk for d in documents]


def test_staff_record_a_witnessed_signature_through_the_api(clinic: Clinic) -> None:
    document = current_documents()[0]
    response = post_json(
        clinic.api("cleo"),
        f"/api/v1/patients/{clinic.pat.pk}/consents",
        {"document": document.pk, "signed_name": "Pat Example"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    row = ConsentSignature.objects.get(pk=body["id"])
    assert row.method == SignatureMethod.WITNESSED
    assert row.witnessed_by == clinic.users["cleo"]
    assert row.document_digest == document.digest == body["document_digest"]
    assert body["document_version"] == 1
    assert consent_services.signature_verify(row)
    assert AuditEvent.objects.filter(object_type="ConsentSignature", object_id=str(row.pk)).exists()

    listed = clinic.api("pat").get(f"/api/v1/patients/{clinic.pat.pk}/consents")
    assert [s["id"] for s in listed.json()] == [row.pk]
    # Quinn cannot see Pat's, and a patient cannot record one.
    assert clinic.api("quinn").get(f"/api/v1/patients/{clinic.pat.pk}/consents").status_code == 404
    refused = post_json(
        clinic.api("pat"),
        f"/api/v1/patients/{clinic.pat.pk}/consents",
        {"document": document.pk, "signed_name": "Pat Example"},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document": 999999, "signed_name": "Pat"}, "document"),
        ({"document": "1", "signed_name": "Pat"}, "document"),
        ({"signed_name": "Pat"}, "document"),
        ({"document": 0, "signed_name": "  "}, "signed_name"),
    ],
)
def test_a_witnessed_signature_with_bad_input_is_422(
    clinic: Clinic, body: dict[str, Any], field: str
) -> None:
    response = post_json(clinic.api("ben"), f"/api/v1/patients/{clinic.pat.pk}/consents", body)
    assert response.status_code == 422
    assert field in [p["field"] for p in response.json()["detail"]]
    assert not ConsentSignature.objects.exists()


def test_an_old_document_version_cannot_be_signed(clinic: Clinic) -> None:
    document = current_documents()[0]
    document.active = False
    document.save(update_fields=["active"])
    response = post_json(
        clinic.api("ben"),
        f"/api/v1/patients/{clinic.pat.pk}/consents",
        {"document": document.pk, "signed_name": "Pat Example"},
    )
    assert response.status_code == 422


def test_the_patient_signs_on_the_tablet(clinic: Clinic) -> None:
    url = f"/intake/patients/{clinic.pat.pk}/consent/"
    page = clinic.client("ben").get(url)
    assert page.status_code == 200
    assert b'id="signature-pad"' in page.content
    assert b"js/consent-signature.js" in page.content
    assert b"<script>" not in page.content  # CSP: no inline scripts
    for document in current_documents():
        assert document.title.encode() in page.content

    blank = clinic.client("ben").post(url, _sign_form(image=blank_png()))
    assert blank.status_code == 422
    assert b"Draw your signature" in blank.content
    unagreed = clinic.client("ben").post(url, {"signed_name": "Pat", "signature": signature_png()})
    assert unagreed.status_code == 422
    assert not ConsentSignature.objects.exists()

    done = clinic.client("ben").post(url, _sign_form())
    assert done.status_code == 302
    rows = list(ConsentSignature.objects.order_by("document__code"))
    assert [r.document.code for r in rows] == ["data_recording", "ketamine_treatment"]
    assert {r.method for r in rows} == {SignatureMethod.TABLET}
    assert all(r.signature_image.startswith("data:image/png;base64,") for r in rows)
    assert all(r.recorded_by == clinic.users["ben"] for r in rows)
    assert consent_services.consent_missing(clinic.pat) == []
    assert clinic.client("pat").get(url).status_code == 403


def test_an_oversized_or_foreign_image_is_refused(clinic: Clinic) -> None:
    url = f"/intake/patients/{clinic.pat.pk}/consent/"
    huge = "data:image/png;base64," + "A" * consent_services.MAX_SIGNATURE_CHARS
    for image in (huge, "data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,!!!"):
        response = clinic.client("ben").post(url, _sign_form(image=image))
        assert response.status_code == 422
    too_wide = signature_png(width=2400)
    assert clinic.client("ben").post(url, _sign_form(image=too_wide)).status_code == 422
    assert not ConsentSignature.objects.exists()


def _link(clinic: Clinic, patient_id: object = None, **body: Any) -> Any:
    return post_json(
        clinic.api("cleo"),
        f"/api/v1/patients/{patient_id or clinic.pat.pk}/consent-links",
        body,
    )


def test_a_link_signs_once_for_its_own_patient(clinic: Clinic) -> None:
    response = _link(clinic)
    assert response.status_code == 201, response.content
    url = response.json()["url"].removeprefix("http://testserver")
    assert len(response.json()["documents"]) == 2
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert not ConsentLink.objects.filter(token_hash=token).exists()  # only the hash is kept

    anonymous = clinic.client(None)
    page = anonymous.get(url)
    assert page.status_code == 200
    assert clinic.pat.family_name.encode() not in page.content  # no patient details
    form = _sign_form() | {"patient": str(clinic.quinn.pk)}  # ignored: the link's patient signs
    signed = anonymous.post(url, form)
    assert signed.status_code == 200
    assert b"Thank you" in signed.content
    rows = ConsentSignature.objects.all()
    assert {r.patient_id for r in rows} == {clinic.pat.pk}
    assert {r.method for r in rows} == {SignatureMethod.LINK}
    assert rows.count() == 2

    again = anonymous.post(url, _sign_form())
    assert again.status_code == 410
    assert anonymous.get(url).status_code == 410
    assert ConsentSignature.objects.count() == 2
    assert anonymous.get("/intake/sign/not-a-token/").status_code == 404


def test_an_expired_link_stores_nothing(clinic: Clinic) -> None:
    url = _link(clinic, hours=1).json()["url"].removeprefix("http://testserver")
    ConsentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = clinic.client(None).post(url, _sign_form())
    assert response.status_code == 410
    assert b"expired" in response.content
    assert not ConsentSignature.objects.exists()


def test_a_link_is_made_only_by_staff_for_a_patient_they_see(clinic: Clinic) -> None:
    refused = post_json(clinic.api("pat"), f"/api/v1/patients/{clinic.pat.pk}/consent-links", {})
    assert refused.status_code == 403
    assert _link(clinic, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert _link(clinic, hours=0).status_code == 422
    assert _link(clinic, documents=[999999]).status_code == 422
    assert not ConsentLink.objects.exists()


def test_the_pdf_copy_has_the_document_and_the_signature(clinic: Clinic) -> None:
    clinic.client("ben").post(f"/intake/patients/{clinic.pat.pk}/consent/", _sign_form())
    row = ConsentSignature.objects.get(document__code="ketamine_treatment")
    url = f"/intake/consents/{row.pk}/pdf/"
    for username in ("pat", "ben", "dana"):
        response = clinic.client(username).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert row.document.title in text
    assert "Pat Example" in text
    assert row.document_digest in text
    assert b"/Subtype /Image" in pdf
    assert clinic.client("quinn").get(url).status_code == 404
    assert clinic.client(None).get(url).status_code == 302
