"""The signed infusion session record (its PDF) as an R4 DocumentReference, with ``Binary``.

The PDF is stored when the session is signed (``infusions.RecordDocument``, version 1: the
record as signed) and again at each addendum (a new version: the record as signed with every
addendum so far); a stored PDF never changes. So the DocumentReference
``sessionrecord-<session id>`` is versioned like the consent forms (``form_versions.py``):
``meta.versionId`` is the stored version, ``_history`` lists every version newest first, and
``_history/1`` is the record as signed. ``docStatus`` is ``final`` for the record as signed
and ``amended`` once an addendum is on it. Each version's attachment points at
``Binary/sessionrecord-<session id>-v<n>``, which serves that version's stored bytes; the
attachment's ``size`` and ``hash`` (base64 SHA-1, R4 Attachment) are of those bytes.

Addenda as versions, not as documents of their own with ``relatesTo`` ``appends``: staff print
one record with its addenda (the download serves the latest stored version), and FHIR serves
that same document; an addendum is a few lines of text that mean little apart from the record.

type: LOINC 28570-0 Procedure note; category ``session-record`` in our document-category code
system (as the consents' ``consent``: the R4 category value set is an example binding of XDS
class codes, ``document_reference.py``). A session signed before the PDFs were stored is served
once its PDF has been stored (the staff download stores it on first need)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from ketaclinic.fhir.resources.common import code_filter, reference_filter, uuid_or_none, validated
from ketaclinic.fhir.resources.document_reference import LOINC, PDF, document_category_system
from ketaclinic.fhir.resources.form_versions import VersionedBuilt
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.infusions.models import RecordDocument, SessionSignature, SignedRecord
from ketaclinic.patients.selectors import patients_visible_to

PREFIX = "sessionrecord-"
RECORD_TYPE = ("28570-0", "Procedure note")
CATEGORY = ("session-record", "Signed infusion session record")
_DOC_FIELDS = ("version", "size", "sha1", "created_at")


def attachment_facts_of(size: int, sha1_hex: str) -> dict[str, Any]:
    """``size`` and ``hash`` (base64 SHA-1, R4 Attachment) from the stored facts, without
    reading the bytes (``document_reference.attachment_facts`` computes them from bytes)."""
    return {"size": size, "hash": base64.b64encode(bytes.fromhex(sha1_hex)).decode("ascii")}


def record_document_id(session_id: Any) -> str:
    return f"{PREFIX}{session_id}"


def record_binary_id(session_id: Any, version: int) -> str:
    return f"{record_document_id(session_id)}-v{version}"


def record_key(raw: str) -> Any:
    """``sessionrecord-<uuid>`` -> the session's UUID, else None."""
    return uuid_or_none(raw.removeprefix(PREFIX)) if raw.startswith(PREFIX) else None


def record_binary_key(raw: str) -> tuple[Any, int] | None:
    """``sessionrecord-<uuid>-v<n>`` -> (the session's UUID, n)."""
    head, _, version = raw.rpartition("-v")
    session_id = record_key(head)
    if session_id is None or not version.isdigit():
        return None
    return session_id, int(version)


def _category_coding() -> dict[str, str]:
    return {"system": document_category_system(), "code": CATEGORY[0], "display": CATEGORY[1]}


def record_json(
    record: SignedRecord, patient_id: Any, document: dict[str, Any], authors: list[int]
) -> dict[str, Any]:
    """``document``: the stored version's ``version``, ``size``, ``sha1`` and ``created_at``."""
    session_id = record.session_id
    version = int(document["version"])
    amended = version > 1
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": record_document_id(session_id),
        "status": "current",
        "docStatus": "amended" if amended else "final",
        "type": {
            "coding": [{"system": LOINC, "code": RECORD_TYPE[0], "display": RECORD_TYPE[1]}],
            "text": "Infusion session record",
        },
        "category": [{"coding": [_category_coding()]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": record.signed_at.isoformat(),
        "custodian": {"reference": f"Organization/{CLINIC_ID}"},
        "description": "Infusion session record, signed"
        + (f"; version {version}, with its addenda" if amended else ""),
        "content": [
            {
                "attachment": {
                    "contentType": PDF,
                    "url": f"Binary/{record_binary_id(session_id, version)}",
                    "title": f"Session record {session_id}, version {version}.pdf",
                    "creation": document["created_at"].isoformat(),
                }
                | attachment_facts_of(int(document["size"]), str(document["sha1"]))
            }
        ],
        "context": {"encounter": [{"reference": f"Encounter/{session_id}"}]},
    }
    if authors:
        resource["author"] = [
            {"reference": f"Practitioner/{practitioner_id(pk)}"} for pk in sorted(set(authors))
        ]
    return resource


def _authors(session_ids: Sequence[Any]) -> dict[Any, list[int]]:
    found: dict[Any, list[int]] = {}
    rows = SessionSignature.objects.filter(session_id__in=list(session_ids))
    for session_id, signer in rows.values_list("session_id", "signed_by_id"):
        found.setdefault(session_id, []).append(signer)
    return found


def _built(
    record: SignedRecord, patient_id: Any, document: dict[str, Any], authors: list[int]
) -> VersionedBuilt:
    return VersionedBuilt(
        record_document_id(record.session_id),
        validated(FhirDocumentReference, record_json(record, patient_id, document, authors)),
        patient_id,
        document["created_at"],
        version=str(document["version"]),
    )


def _build(rows: Sequence[Any]) -> list[Built]:
    authors = _authors([r.session_id for r in rows])
    return [
        _built(
            r,
            r.session.course.patient_id,
            {name: getattr(r, f"doc_{name}") for name in _DOC_FIELDS},
            authors.get(r.session_id, []),
        )
        for r in rows
    ]


def _latest(field: str) -> Subquery:
    return Subquery(
        RecordDocument.objects.filter(session=OuterRef("session"))
        .order_by("-version")
        .values(field)[:1]
    )


def signed_records_visible_to(user: Any) -> QuerySet[Any]:
    """Signed records of the patients the user may see whose PDF is stored, each with its
    latest stored version's facts (``doc_version``, ``doc_size``, ...; not the bytes)."""
    return (
        SignedRecord.objects.filter(session__course__patient__in=patients_visible_to(user))
        .filter(Exists(RecordDocument.objects.filter(session=OuterRef("session"))))
        .annotate(**{f"doc_{name}": _latest(name) for name in _DOC_FIELDS})
    )


def record_versions(user: Any, resource_id: str) -> list[VersionedBuilt]:
    """Every stored version of ``sessionrecord-<id>``, newest first (empty: not one of its
    ids, or not visible to the user)."""
    session_id = record_key(resource_id)
    if session_id is None:
        return []
    record = (
        signed_records_visible_to(user)
        .select_related("session__course")
        .filter(session_id=session_id)
        .first()
    )
    if record is None:
        return []
    authors = _authors([session_id]).get(session_id, [])
    documents = (
        RecordDocument.objects.filter(session_id=session_id)
        .order_by("-version")
        .values(*_DOC_FIELDS)
    )
    return [_built(record, record.session.course.patient_id, d, authors) for d in documents]


def record_pdf_stored(user: Any, resource_id: str) -> tuple[Any, bytes] | None:
    """``Binary/sessionrecord-<id>-v<n>``: (the patient's id, that version's stored bytes) for
    whoever may read the DocumentReference; None otherwise (the caller audits the read)."""
    key = record_binary_key(resource_id)
    if key is None:
        return None
    session_id, version = key
    record = (
        signed_records_visible_to(user)
        .select_related("session__course")
        .filter(session_id=session_id)
        .first()
    )
    if record is None:
        return None
    document = RecordDocument.objects.filter(session_id=session_id, version=version).first()
    if document is None:
        return None
    return record.session.course.patient_id, bytes(document.pdf)


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    keys = [k for k in map(record_key, raw.split(",")) if k is not None]
    return rows.filter(session_id__in=keys)


def _lookup(raw: str) -> Q | None:
    key = record_key(raw)
    return None if key is None else Q(session_id=key)


_patient = reference_filter("session__course__patient_id", "Patient", uuid_or_none)
_everything = Q(pk__isnull=False)

SESSION_RECORD_SOURCE = Source(
    rows=signed_records_visible_to,
    inserted="signed_at",  # the record exists from its signing; addenda add versions
    last_updated=F("doc_created_at"),  # the latest stored version
    dates=F("signed_at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("signed_at"),
        "type": code_filter({(LOINC, RECORD_TYPE[0]): _everything}),
        "category": lambda rows, raw: code_filter(
            {(document_category_system(), CATEGORY[0]): _everything}
        )(rows, raw),
    },
    build=_build,
    lookup=_lookup,
    prefetch=("session__course",),
)
