"""URLs and bodies for the FHIR rows of tests/test_url_matrix.py added with issue 16's clinical
record (Condition, AllergyIntolerance, Medication, MedicationRequest, the transaction) and of
PractitionerRole, DocumentReference (and its Binary), AuditEvent, Provenance, history and
$everything: builders of their URLs and bodies."""

from __future__ import annotations

from typing import Any

from ketaclinic.testing import Clinic


def _evaluated(c: Clinic) -> None:
    from ketaclinic.eligibility.models import Diagnosis
    from ketaclinic.eligibility.tests.eligibility_helpers import (
        evaluation_make,
        shipped_rows_ensure,
    )

    if not Diagnosis.objects.filter(patient=c.pat).exists():
        shipped_rows_ensure()
        evaluation_make(c)


def condition_url(c: Clinic) -> str:
    from ketaclinic.eligibility.models import Diagnosis

    _evaluated(c)
    return f"/fhir/R4/Condition/{Diagnosis.objects.filter(patient=c.pat).latest('pk').pk}"


def allergy_url(c: Clinic) -> str:
    from ketaclinic.eligibility.models import Allergy

    _evaluated(c)
    allergy = Allergy.objects.filter(patient=c.pat).latest("pk")
    return f"/fhir/R4/AllergyIntolerance/{allergy.pk}"


def _signed(c: Clinic) -> Any:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    chart = chart_for(c)
    chart.signed()
    return chart.session


def medication_request_url(c: Clinic) -> str:
    return f"/fhir/R4/MedicationRequest/{_signed(c).pk}"


def medication_url(c: Clinic) -> str:
    """A container drawn for Pat's session: staff who see the ledger and Pat may read it."""
    from ketaclinic.ledger.models import EntryKind, LedgerEntry

    session = _signed(c)
    drawn = LedgerEntry.objects.get(session=session, kind=EntryKind.DRAW).container_id
    return f"/fhir/R4/Medication/container-{drawn}"


def transaction_bundle(c: Clinic) -> dict[str, Any]:
    """One new patient (a new name each time: every role's POST creates one)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:11111111-2222-4333-8444-555555555555",
                "resource": {
                    "resourceType": "Patient",
                    "name": [{"family": "Matrix", "given": ["Transaction"]}],
                    "birthDate": "1990-01-01",
                },
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }


def consent_signature_pk(c: Clinic) -> int:
    from ketaclinic.consent.models import ConsentSignature
    from ketaclinic.infusions.tests.chart_driver import consent_signed

    consent_signed(c)
    signature = ConsentSignature.objects.filter(patient=c.pat).first()
    assert signature is not None, "the shipped consent documents are loaded by a migration"
    return signature.pk


def document_url(c: Clinic) -> str:
    return f"/fhir/R4/DocumentReference/consent-{consent_signature_pk(c)}"


def binary_url(c: Clinic) -> str:
    return f"/fhir/R4/Binary/consent-{consent_signature_pk(c)}"


def provenance_url(c: Clinic) -> str:
    return f"/fhir/R4/Provenance/consent-{consent_signature_pk(c)}"


def audit_event_url(c: Clinic) -> str:
    from ketaclinic.audit.models import AuditEvent

    c.api("ada").get(f"/fhir/R4/Patient/{c.pat.pk}")  # an audited read, so there is one
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    return f"/fhir/R4/AuditEvent/audit-{event.seq}"


def version_url(c: Clinic) -> str:
    """Pat's current version (the same for every role: reading it changes nothing)."""
    from ketaclinic.fhir.resources.patient import PATIENT_SOURCE
    from ketaclinic.fhir.search import engine
    from ketaclinic.fhir.search.engine import ResourceType

    kind = ResourceType("Patient", (PATIENT_SOURCE,), (), audit_type=None)
    built = engine.read(kind, c.users["dana"], str(c.pat.pk))
    return f"/fhir/R4/Patient/{c.pat.pk}/_history/{built.version_id}"
