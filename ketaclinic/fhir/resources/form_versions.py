"""The clinic's consent forms (``consent.ConsentDocument``) as versioned R4 DocumentReferences.

A consent form is versioned in the consent app: a change is a new version, never an edit. Here
each form is one DocumentReference (id ``consentform-<code>``) whose ``meta.versionId`` is the
form's version number: a read gives the version patients sign now (the active one), ``_history``
gives every version, newest first, and ``_history/<n>`` version n as it was published. The text
is served as ``Binary/consentform-<code>-v<n>`` (text/plain, UTF-8) with its size and SHA-1.
Not patient data: every user of the API who may see consents (``consent.view``) reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

from ketaclinic.accounts.access import user_can
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.fhir.resources.common import code_filter, validated
from ketaclinic.fhir.resources.document_reference import (
    CONSENT_TYPE,
    LOINC,
    attachment_facts,
    document_category_system,
)
from ketaclinic.fhir.resources.organization import CLINIC_ID
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter

PREFIX = "consentform-"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class VersionedBuilt(Built):
    """A resource whose versions are kept: its versionId is the version number."""

    version: str = ""

    @property
    def version_id(self) -> str:
        return self.version


def _fhir_code(code: str) -> str:
    # FHIR ids take letters, digits, "-" and "." (no "_"); a slug never holds a ".".
    return code.replace("_", ".")


def _our_code(fhir_code: str) -> str:
    return fhir_code.replace(".", "_")


def form_id(code: str) -> str:
    return f"{PREFIX}{_fhir_code(code)}"


def form_binary_id(document: ConsentDocument) -> str:
    return f"{form_id(document.code)}-v{document.version}"


def form_binary_key(raw: str) -> tuple[str, int] | None:
    """``consentform-<code>-v<n>`` -> (code, n)."""
    head, _, version = raw.removeprefix(PREFIX).rpartition("-v")
    if not raw.startswith(PREFIX) or not head or not version.isdigit():
        return None
    return _our_code(head), int(version)


def form_text(document: ConsentDocument) -> bytes:
    return document.body.encode("utf-8")


def form_json(document: ConsentDocument) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": form_id(document.code),
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": CONSENT_TYPE[0], "display": CONSENT_TYPE[1]}],
            "text": document.title,
        },
        "category": [
            {
                "coding": [
                    {
                        "system": document_category_system(),
                        "code": "consent-form",
                        "display": "Consent form (unsigned)",
                    }
                ]
            }
        ],
        "date": document.created_at.isoformat(),
        "custodian": {"reference": f"Organization/{CLINIC_ID}"},
        "description": f"{document.title}, version {document.version}, in use from "
        f"{document.effective_from.isoformat()}",
        "content": [
            {
                "attachment": {
                    "contentType": TEXT,
                    "language": "en",
                    "url": f"Binary/{form_binary_id(document)}",
                    "title": f"{document.title}, version {document.version}",
                    "creation": document.created_at.isoformat(),
                }
                | attachment_facts(form_text(document))
            }
        ],
    }


def form_built(document: ConsentDocument) -> VersionedBuilt:
    return VersionedBuilt(
        form_id(document.code),
        validated(FhirDocumentReference, form_json(document)),
        None,
        document.created_at,
        version=str(document.version),
    )


def _build(rows: Sequence[Any]) -> list[Built]:
    return [form_built(d) for d in rows]


def forms_visible_to(user: Any) -> QuerySet[Any]:
    """Every version of every form, for whoever may see consents; none for anyone else."""
    if not user_can(user, "consent.view"):
        return ConsentDocument.objects.none()
    return ConsentDocument.objects.all()


def form_versions(user: Any, resource_id: str) -> list[VersionedBuilt]:
    """Every version of ``consentform-<code>``, newest first (empty: not a form's id)."""
    if not resource_id.startswith(PREFIX):
        return []
    code = _our_code(resource_id.removeprefix(PREFIX))
    rows = forms_visible_to(user).filter(code=code).order_by("-version")
    return [form_built(d) for d in rows]


def _current(user: Any) -> QuerySet[Any]:
    return forms_visible_to(user).filter(active=True)


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    codes = [_our_code(p.removeprefix(PREFIX)) for p in raw.split(",") if p.startswith(PREFIX)]
    return rows.filter(code__in=codes)


def _lookup(raw: str) -> Q | None:
    return Q(code=_our_code(raw.removeprefix(PREFIX))) if raw.startswith(PREFIX) else None


_everything = Q(pk__isnull=False)

FORM_SOURCE = Source(
    rows=_current,
    inserted="created_at",
    last_updated=F("created_at"),  # a version is never edited; a change is a new version
    dates=F("created_at"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "date": date_filter("created_at"),
        "type": code_filter({(LOINC, CONSENT_TYPE[0]): _everything}),
        "category": lambda rows, raw: code_filter(
            {(document_category_system(), "consent-form"): _everything}
        )(rows, raw),
    },
    build=_build,
    lookup=_lookup,
)
