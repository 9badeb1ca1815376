"""Rows of tests/test_url_matrix.py for the FHIR URLs of PractitionerRole, DocumentReference
(and its Binary), AuditEvent, Provenance, history and $everything: builders of their URLs."""

from __future__ import annotations

from ketaclinic.testing import Clinic


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
