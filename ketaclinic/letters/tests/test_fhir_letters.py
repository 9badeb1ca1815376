"""A signed letter is a FHIR DocumentReference (validated with fhir.resources R4B) whose
Binary is the PDF stored at signing; drafts are not served; a patient reads only their own
sent letters; every read audited."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.tests.helpers import valid
from ketaclinic.letters.services.letters import letter_draft
from ketaclinic.letters.tests.records import gp_make, signed_letter
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _matches(client: Any, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    Bundle.model_validate_json(response.content)
    return [
        e["resource"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"
    ]


def test_a_signed_letter_is_a_document_reference_with_its_stored_pdf(clinic: Clinic) -> None:
    letter = signed_letter(clinic)
    client = clinic.api("ada")
    read = client.get(f"/fhir/R4/DocumentReference/letter-{letter.pk}")
    assert read.status_code == 200, read.content
    document = valid(FhirDocumentReference, read.content)
    assert document["subject"]["reference"] == f"Patient/{clinic.pat.pk}"
    assert document["type"]["coding"][0]["code"] == "11506-3"
    assert document["category"][0]["coding"][0]["code"] == "letter"
    attachment = document["content"][0]["attachment"]
    pdf = bytes(letter.pdf or b"")
    assert attachment["url"] == f"Binary/letter-{letter.pk}" and attachment["size"] == len(pdf)
    sha1 = hashlib.sha1(pdf, usedforsecurity=False).digest()
    assert attachment["hash"] == base64.b64encode(sha1).decode()
    before = AuditEvent.objects.count()
    binary = client.get(f"/fhir/R4/Binary/letter-{letter.pk}")
    assert binary.status_code == 200 and binary.content == pdf
    event = AuditEvent.objects.filter(seq__gt=before, object_type="Binary").get()
    assert (event.object_id, event.patient_id) == (f"letter-{letter.pk}", clinic.pat.pk)
    assert AuditEvent.objects.filter(object_type="DocumentReference", action="R").exists()


def test_letters_are_searched_beside_the_consents(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(clinic)
    letter = signed_letter(clinic)
    client = clinic.api("ada")
    base = f"/fhir/R4/DocumentReference?patient={clinic.pat.pk}"
    ids = {d["id"] for d in _matches(client, base)}
    assert f"letter-{letter.pk}" in ids and any(i.startswith("consent-") for i in ids)
    letters = _matches(client, f"{base}&category=letter")
    assert [d["id"] for d in letters] == [f"letter-{letter.pk}"]
    assert [d["id"] for d in _matches(client, f"{base}&type=http://loinc.org|11506-3")] == [
        f"letter-{letter.pk}"
    ]
    assert all(d["id"].startswith("consent-") for d in _matches(client, f"{base}&category=consent"))


def test_drafts_and_other_patients_letters_are_not_found(clinic: Clinic) -> None:
    letter = signed_letter(clinic)
    draft = letter_draft(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        kind="induction",
        recipient=gp_make(clinic),
    )
    ada = clinic.api("ada")
    assert ada.get(f"/fhir/R4/DocumentReference/letter-{draft.pk}").status_code == 404
    assert ada.get(f"/fhir/R4/Binary/letter-{draft.pk}").status_code == 404
    quinn = clinic.api("quinn")
    for url in (
        f"/fhir/R4/DocumentReference/letter-{letter.pk}",
        f"/fhir/R4/Binary/letter-{letter.pk}",
        f"/fhir/R4/Binary/letter-{uuid.uuid4()}",
    ):
        assert quinn.get(url).status_code == 404, url
    # Pat reads her own sent letter.
    assert clinic.api("pat").get(f"/fhir/R4/Binary/letter-{letter.pk}").status_code == 200
