"""PractitionerRole, DocumentReference (with its Binary), AuditEvent and Provenance: built from
our rows, validated with fhir.resources R4B, searched, access-checked and audited."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole
from fhir.resources.R4B.provenance import Provenance as FhirProvenance

from ketaclinic.audit.models import AuditEvent
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.fhir.tests.helpers import issues, valid
from ketaclinic.infusions.models import SignedRecord
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _bundle(client: Client, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.content
    if status != 200:
        return {}
    Bundle.model_validate_json(response.content)
    body: dict[str, Any] = response.json()
    return body


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _signed_session(clinic: Clinic) -> Any:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    chart = chart_for(clinic)
    chart.signed()
    return chart.session


# -- PractitionerRole -----------------------------------------------------------------------------


def test_practitioner_roles_carry_the_hl7_code_where_one_exists_and_ours_always(
    clinic: Clinic,
) -> None:
    client = clinic.api("pat")  # patients see who treats them, as for Practitioner
    bundle = _bundle(client, "/fhir/R4/PractitionerRole?_count=50")
    roles = {r["practitioner"]["reference"]: r for r in _matches(bundle)}
    ada = roles[f"Practitioner/staff-{clinic.users['ada'].pk}"]
    cleo = roles[f"Practitioner/staff-{clinic.users['cleo'].pk}"]
    assert [c["code"] for c in ada["code"][0]["coding"]] == ["doctor", "clinician"]
    assert ada["code"][0]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/practitioner-role"
    )
    assert [c["code"] for c in cleo["code"][0]["coding"]] == ["intake"]
    assert ada["organization"] == {"reference": "Organization/clinic"}
    assert ada["active"] is True
    assert not any(
        r["practitioner"]["reference"].endswith(str(clinic.pat.pk)) for r in roles.values()
    )
    read = client.get(f"/fhir/R4/PractitionerRole/role-{clinic.users['ben'].pk}")
    assert valid(FhirPractitionerRole, read.content)["code"][0]["coding"][0]["code"] == "nurse"


def test_practitioner_roles_are_searched_by_practitioner_role_and_active(clinic: Clinic) -> None:
    client = clinic.api("dana")
    ben = clinic.users["ben"]
    by_practitioner = _bundle(
        client, f"/fhir/R4/PractitionerRole?practitioner=Practitioner/staff-{ben.pk}"
    )
    assert [r["id"] for r in _matches(by_practitioner)] == [f"role-{ben.pk}"]
    doctors = _bundle(client, "/fhir/R4/PractitionerRole?role=doctor")
    assert [r["id"] for r in _matches(doctors)] == [f"role-{clinic.users['ada'].pk}"]
    nurses = _bundle(
        client,
        "/fhir/R4/PractitionerRole?role=http://terminology.hl7.org/CodeSystem/practitioner-role|nurse",
    )
    assert [r["id"] for r in _matches(nurses)] == [f"role-{ben.pk}"]
    ours = _bundle(client, "/fhir/R4/PractitionerRole?role=intake")
    assert [r["id"] for r in _matches(ours)] == [f"role-{clinic.users['cleo'].pk}"]
    ben.is_active = False
    ben.save(update_fields=["is_active"])
    inactive = _bundle(client, "/fhir/R4/PractitionerRole?active=false")
    assert [r["id"] for r in _matches(inactive)] == [f"role-{ben.pk}"]
    assert client.get("/fhir/R4/PractitionerRole?active=maybe").status_code == 400


# -- DocumentReference and Binary -----------------------------------------------------------------


def test_a_signed_consent_is_a_document_reference_whose_binary_is_the_pdf(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(clinic)
    signature = ConsentSignature.objects.filter(patient=clinic.pat).first()
    assert signature is not None
    client = clinic.api("pat")
    bundle = _bundle(client, f"/fhir/R4/DocumentReference?patient={clinic.pat.pk}")
    documents = _matches(bundle)
    assert documents and all(
        d["subject"]["reference"] == f"Patient/{clinic.pat.pk}" for d in documents
    )
    read = client.get(f"/fhir/R4/DocumentReference/consent-{signature.pk}")
    document = valid(FhirDocumentReference, read.content)
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["url"] == f"Binary/consent-{signature.pk}"
    before = AuditEvent.objects.count()
    pdf = client.get(f"/fhir/R4/{attachment['url']}")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert attachment["size"] == len(pdf.content)
    sha1 = hashlib.sha1(pdf.content, usedforsecurity=False).digest()
    assert attachment["hash"] == base64.b64encode(sha1).decode()
    read_again = AuditEvent.objects.filter(seq__gt=before, object_type="Binary").get()
    assert read_again.object_id == f"consent-{signature.pk}"
    assert read_again.patient_id == clinic.pat.pk
    # ... and the administrator finds that read in the trail, by the document's content
    trail = clinic.api("dana").get(f"/fhir/R4/AuditEvent?entity=Binary/consent-{signature.pk}")
    [event] = [e["resource"] for e in trail.json()["entry"] if e["search"]["mode"] == "match"]
    assert event["agent"][0]["who"]["reference"] == f"Patient/{clinic.pat.pk}"
    assert event["entity"][1]["what"]["reference"] == f"Patient/{clinic.pat.pk}"
    # As FHIR JSON: a Binary resource with the same bytes.
    as_json = client.get(
        f"/fhir/R4/Binary/consent-{signature.pk}", headers={"Accept": "application/fhir+json"}
    )
    assert as_json.status_code == 200
    assert base64.b64decode(as_json.json()["data"]) == pdf.content


def test_another_patients_documents_and_pdfs_are_not_found(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(clinic)
    signature = ConsentSignature.objects.filter(patient=clinic.pat).first()
    assert signature is not None
    other = clinic.api("quinn")
    assert other.get(f"/fhir/R4/DocumentReference/consent-{signature.pk}").status_code == 404
    assert other.get(f"/fhir/R4/Binary/consent-{signature.pk}").status_code == 404
    assert issues(other.get(f"/fhir/R4/Binary/consent-{signature.pk}"))[0]["code"] == "not-found"
    mine = _bundle(other, "/fhir/R4/DocumentReference")
    assert not [d for d in _matches(mine) if "subject" in d]  # the forms, none of Pat's
    assert other.get("/fhir/R4/Binary/nothing-1").status_code == 404


def test_documents_are_searched_by_type_category_and_date(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(clinic)
    client = clinic.api("ada")
    base = f"/fhir/R4/DocumentReference?patient={clinic.pat.pk}"
    every = len(_matches(_bundle(client, base)))
    assert every >= 1
    assert len(_matches(_bundle(client, f"{base}&type=http://loinc.org|59284-0"))) == every
    assert len(_matches(_bundle(client, f"{base}&category=consent"))) == every
    assert _matches(_bundle(client, f"{base}&category=clinical-note")) == []
    assert len(_matches(_bundle(client, f"{base}&date=ge2020-01-01"))) == every
    assert _matches(_bundle(client, f"{base}&date=lt2020-01-01")) == []


# -- AuditEvent -----------------------------------------------------------------------------------


def test_the_audit_trail_is_for_the_administrator_only(clinic: Clinic) -> None:
    clinic.api("ada").get(f"/fhir/R4/Patient/{clinic.pat.pk}")  # an audited read
    for who in ("ada", "ben", "cleo", "pat"):
        response = clinic.api(who).get("/fhir/R4/AuditEvent")
        assert response.status_code == 403, who
        assert issues(response)[0]["code"] == "forbidden"
        assert clinic.api(who).get("/fhir/R4/AuditEvent/audit-1").status_code == 403
    dana = clinic.api("dana")
    bundle = _bundle(
        dana, f"/fhir/R4/AuditEvent?entity=Patient/{clinic.pat.pk}&action=R&_count=200"
    )
    events = _matches(bundle)
    assert events
    ada = f"Practitioner/staff-{clinic.users['ada'].pk}"
    assert any(e["agent"][0]["who"].get("reference") == ada for e in events)
    for event in events:
        FhirAuditEvent.model_validate(event)
        assert event["action"] == "R"
    by_agent = _matches(_bundle(dana, f"/fhir/R4/AuditEvent?agent={ada}&_count=200"))
    assert by_agent and all(e["agent"][0]["who"]["reference"] == ada for e in by_agent)
    by_patient = _matches(_bundle(dana, f"/fhir/R4/AuditEvent?patient={clinic.pat.pk}&_count=200"))
    assert {e["id"] for e in events} <= {e["id"] for e in by_patient}
    assert _matches(_bundle(dana, "/fhir/R4/AuditEvent?date=lt2000-01-01")) == []
    assert dana.get("/fhir/R4/AuditEvent?action=X").status_code == 400
    one = events[0]["id"]
    assert dana.get(f"/fhir/R4/AuditEvent/{one}").json()["id"] == one


# -- Provenance -----------------------------------------------------------------------------------


def test_a_signed_session_has_a_provenance_naming_both_signers_and_the_digest(
    clinic: Clinic,
) -> None:
    session = _signed_session(clinic)
    record = SignedRecord.objects.get(session=session)
    client = clinic.api("pat")
    bundle = _bundle(client, f"/fhir/R4/Provenance?target=Encounter/{session.pk}")
    [provenance] = _matches(bundle)
    FhirProvenance.model_validate(provenance)
    assert provenance["id"] == f"session-{session.pk}"
    assert {t["reference"] for t in provenance["target"]} == {
        f"Encounter/{session.pk}",
        f"MedicationAdministration/{session.pk}",
    }
    signers = {a["who"]["reference"] for a in provenance["agent"]}
    assert signers == {
        f"Practitioner/staff-{clinic.users['ben'].pk}",
        f"Practitioner/staff-{clinic.users['ada'].pk}",
    }
    for signature in provenance["signature"]:
        assert base64.b64decode(signature["data"]).hex() == record.sha256
    mine = _matches(_bundle(client, "/fhir/R4/Provenance?_count=50"))
    assert {p["id"] for p in mine} >= {f"session-{session.pk}"}
    assert any(p["id"].startswith("consent-") for p in mine)  # the consent Pat signed
    ben = f"Practitioner/staff-{clinic.users['ben'].pk}"
    by_agent = _matches(_bundle(clinic.api("ada"), f"/fhir/R4/Provenance?agent={ben}"))
    assert f"session-{session.pk}" in {p["id"] for p in by_agent}
    other = clinic.api("quinn")
    assert other.get(f"/fhir/R4/Provenance/session-{session.pk}").status_code == 404
    assert _matches(_bundle(other, "/fhir/R4/Provenance")) == []


def test_consents_and_decisions_have_provenance(clinic: Clinic) -> None:
    from ketaclinic.eligibility.tests.eligibility_helpers import decision_make
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(clinic)
    decision = decision_make(clinic)
    signature = ConsentSignature.objects.filter(patient=clinic.pat).first()
    assert signature is not None
    client = clinic.api("ada")
    [consent] = _matches(_bundle(client, f"/fhir/R4/Provenance?target=Consent/{signature.pk}"))
    assert consent["id"] == f"consent-{signature.pk}"
    assert {a["who"]["reference"] for a in consent["agent"]} >= {f"Patient/{clinic.pat.pk}"}
    assert base64.b64decode(consent["signature"][0]["data"]).hex() == signature.digest
    via_document = _bundle(
        client, f"/fhir/R4/Provenance?target=DocumentReference/consent-{signature.pk}"
    )
    assert [p["id"] for p in _matches(via_document)] == [consent["id"]]
    read = client.get(f"/fhir/R4/Provenance/decision-{decision.pk}")
    provenance = valid(FhirProvenance, read.content)
    assert base64.b64decode(provenance["signature"][0]["data"]).hex() == decision.digest
    assert (
        provenance["agent"][0]["who"]["reference"] == f"Practitioner/staff-{clinic.users['ada'].pk}"
    )
    audited = AuditEvent.objects.filter(
        object_type="Provenance", object_id=f"decision-{decision.pk}"
    )
    assert audited.get().patient_id == clinic.pat.pk
    everything = _matches(
        _bundle(client, f"/fhir/R4/Provenance?patient={clinic.pat.pk}&_sort=-recorded")
    )
    recorded = [p["recorded"] for p in everything]
    assert recorded == sorted(recorded, reverse=True)


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/R4/DocumentReference?category=consent",
        "/fhir/R4/Provenance",
        "/fhir/R4/AuditEvent",
        "/fhir/R4/PractitionerRole",
    ],
)
def test_a_page_of_the_new_types_costs_the_same_queries_however_many_entries(
    clinic: Clinic, url: str
) -> None:
    """No query per entry: a page of 1 and a page of 4 take as many queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.consent.services import consent_missing, consent_record_witnessed

    for patient, name in ((clinic.pat, "Pat Example"), (clinic.quinn, "Quinn Sample")):
        for document in consent_missing(patient):
            consent_record_witnessed(
                acting_user=clinic.users["ben"],
                patient=patient,
                document_id=document.pk,
                signed_name=name,
            )
    client = clinic.api("dana")
    client.get(f"{url}{'&' if '?' in url else '?'}_count=1")  # the token's first use

    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            bundle = _bundle(client, f"{url}{'&' if '?' in url else '?'}_count={count}")
        assert len(_matches(bundle)) == count
        return len(captured)

    assert queries(1) == queries(4)
