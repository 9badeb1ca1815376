"""Reads for consent: access checked, related rows preloaded, reads audited."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, UUIDField

from ketaclinic.accounts.access import require
from ketaclinic.audit.services import audit_reads
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.lib.ids import int_id
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patients_visible_to

LIST_LIMIT = 100


def consent_documents_current(user: Any) -> list[ConsentDocument]:
    """The active version of every consent document (no patient data: not audited)."""
    require(user, "consent.view")
    return list(ConsentDocument.objects.filter(active=True).order_by("code"))


def _signatures() -> QuerySet[ConsentSignature]:
    return ConsentSignature.objects.select_related(
        "document", "patient", "witnessed_by", "recorded_by"
    )


def consent_signatures_for_patient(user: Any, patient: Patient) -> list[ConsentSignature]:
    """The patient's signatures (``patient`` comes from ``patient_get_for_user``)."""
    require(user, "consent.view")
    rows = list(_signatures().filter(patient=patient).order_by("-signed_at", "-id")[:LIST_LIMIT])
    audit_reads(user, "ConsentSignature", rows)
    return rows


# Compiled once per process (lib/compiled_read.py): the staff record page reads it each view.
_SIGNATURE_LINES = CompiledRead(
    lambda: (
        ConsentSignature.objects.filter(patient_id=Slot("patient", UUIDField()))
        .select_related("document")
        .only("pk", "patient_id", "signed_at", "document__title", "document__version")
        .order_by("-signed_at", "-id")[:LIST_LIMIT]
    )
)


def consent_signature_lines_for_patient(user: Any, patient: Patient) -> list[ConsentSignature]:
    """As `consent_signatures_for_patient` (the same rows, an audited read), with only what a
    list of them shows: the document's title and version and when it was signed (not the
    signature image, the document's text or the people's rows)."""
    require(user, "consent.view")
    rows: list[ConsentSignature] = _SIGNATURE_LINES.objects(patient=patient.pk)
    audit_reads(user, "ConsentSignature", rows)
    return rows


def consent_signature_get_for_user(user: Any, signature_id: int | str) -> ConsentSignature:
    """A signature the user may see (a patient: their own); DoesNotExist (404) otherwise."""
    require(user, "consent.view")
    pk = int_id(signature_id)
    if pk is None:
        raise ConsentSignature.DoesNotExist
    signature = _signatures().get(pk=pk, patient__in=patients_visible_to(user))
    audit_reads(user, "ConsentSignature", [signature])
    return signature


def consent_document_versions(user: Any) -> dict[str, list[ConsentDocument]]:
    """Every version of every consent document by code, newest first, each with the number of
    signatures it has (``signature_count``; no patient data: not audited)."""
    require(user, "site.edit")
    grouped: dict[str, list[ConsentDocument]] = {}
    rows = ConsentDocument.objects.annotate(signature_count=Count("signatures")).order_by(
        "code", "-version"
    )
    for document in rows:
        grouped.setdefault(document.code, []).append(document)
    return grouped
