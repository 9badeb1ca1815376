"""Signed letters (``ketaclinic.letters``) as R4 DocumentReferences, a second source of the
type beside the signed consent copies (``document_reference.py``). Id ``letter-<uuid>``; the
attachment's url ``Binary/letter-<uuid>`` serves the PDF stored at signing (its bytes never
change), with the PDF's size and SHA-1. Drafts are not documents yet and are not served.

type: LOINC 34109-9 "Note" would fit any letter; we use the LOINC document ontology's
referral/summary codes: 57133-1 "Referral note" for the evaluation's answer to a referral,
18842-5 "Discharge summary" for the discharge letter and 11506-3 "Progress note" after the
induction series. category: ``letter`` in our ``<base>/CodeSystem/document-category``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from ketaclinic.fhir.resources.common import code_filter, reference_filter, uuid_or_none, validated
from ketaclinic.fhir.resources.document_reference import (
    LOINC,
    PDF,
    attachment_facts,
    document_category_system,
)
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.letters.models import Letter, LetterStatus
from ketaclinic.letters.selectors import letters_visible_to

PREFIX = "letter-"
LETTER_TYPES = {
    "evaluation": ("57133-1", "Referral note"),
    "induction": ("11506-3", "Progress note"),
    "discharge": ("18842-5", "Discharge summary"),
}


def letter_document_id(letter_pk: UUID) -> str:
    return f"{PREFIX}{letter_pk}"


def letter_key(raw: str) -> UUID | None:
    return uuid_or_none(raw.removeprefix(PREFIX)) if raw.startswith(PREFIX) else None


def letter_document_json(letter: Letter) -> dict[str, Any]:
    code, display = LETTER_TYPES[letter.kind]
    pdf = bytes(letter.pdf or b"")
    signed_at = letter.signed_at.isoformat() if letter.signed_at else None
    signer = practitioner_id(letter.signed_by_id or letter.drafted_by_id)
    return {
        "resourceType": "DocumentReference",
        "id": letter_document_id(letter.pk),
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": code, "display": display}],
            "text": letter.get_kind_display(),
        },
        "category": [
            {
                "coding": [
                    {"system": document_category_system(), "code": "letter", "display": "Letter"}
                ]
            }
        ],
        "subject": {"reference": f"Patient/{letter.patient_id}"},
        "date": signed_at,
        "author": [{"reference": f"Practitioner/{signer}"}],
        "authenticator": {"reference": f"Practitioner/{signer}"},
        "custodian": {"reference": f"Organization/{CLINIC_ID}"},
        "description": f"Letter: {letter.get_kind_display().lower()}",
        "content": [
            {
                "attachment": {
                    "contentType": PDF,
                    "url": f"Binary/{letter_document_id(letter.pk)}",
                    "title": f"letter-{letter.kind}.pdf",
                    "creation": signed_at,
                }
                | attachment_facts(pdf)
            }
        ],
    }


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            letter_document_id(letter.pk),
            validated(FhirDocumentReference, letter_document_json(letter)),
            letter.patient_id,
            getattr(letter, LAST_UPDATED),
        )
        for letter in rows
    ]


def signed_letters_visible_to(user: Any) -> QuerySet[Any]:
    """Signed letters the user may read (staff with letter.view; a patient: their own sent
    ones); drafts never."""
    return letters_visible_to(user).filter(status=LetterStatus.SIGNED)


def letter_binary(user: Any, resource_id: str) -> Letter | None:
    """The signed letter behind ``Binary/letter-<uuid>``, if the user may read it."""
    key = letter_key(resource_id)
    if key is None:
        return None
    return signed_letters_visible_to(user).filter(pk=key).first()


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(pk__in=[k for k in map(letter_key, raw.split(",")) if k is not None])


def _lookup(raw: str) -> Q | None:
    key = letter_key(raw)
    return None if key is None else Q(pk=key)


_patient = reference_filter("patient_id", "Patient", uuid_or_none)
_everything = Q(pk__isnull=False)

LETTER_DOCUMENT_SOURCE = Source(
    rows=signed_letters_visible_to,
    inserted="signed_at",
    last_updated=F("signed_at"),  # a signed letter never changes
    dates=F("signed_at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("signed_at"),
        "type": code_filter(
            {(LOINC, code): Q(kind=kind) for kind, (code, _display) in LETTER_TYPES.items()}
        ),
        "category": lambda rows, raw: code_filter(
            {(document_category_system(), "letter"): _everything}
        )(rows, raw),
    },
    build=_build,
    lookup=_lookup,
    prefetch=("patient", "signed_by"),
)
