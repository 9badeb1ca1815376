"""The CapabilityStatement at /fhir/R4/metadata: what this server supports."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ketaclinic.fhir.include import BINARY_CAPABILITY, record_capabilities
from ketaclinic.fhir.registry import ORGANIZATION, QUESTIONNAIRE, TYPES
from ketaclinic.fhir.search.engine import ResourceType
from ketaclinic.fhir.search.params import DEFAULT_COUNT, MAX_COUNT
from ketaclinic.fhir.smart.discovery import capability_security

FHIR_VERSION = "4.0.1"


def _search(name: str, kind: str, doc: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "documentation": doc}


# Parameters every search accepts besides the type's own (FHIR R4 search, 3.1.1.5).
RESULT_PARAMS = (
    ("_count", "number", f"page size (default {DEFAULT_COUNT}, at most {MAX_COUNT})"),
    ("_sort", "string", "_lastUpdated or the type's date parameter; - for descending"),
    ("_summary", "token", "count: the total only"),
)


def _searchable(kind: ResourceType, *, versioned: bool = True) -> dict[str, Any]:
    interactions = [{"code": "read"}, {"code": "search-type"}]
    if kind.name in ("QuestionnaireResponse", "Questionnaire"):
        interactions.append({"code": "create"})
    resource: dict[str, Any] = {
        "type": kind.name,
        "interaction": interactions,
        "versioning": "versioned" if versioned else "no-version",
        "readHistory": False,
        "conditionalRead": "not-match",
        "searchParam": [_search(p.name, str(p.kind), p.documentation) for p in kind.params]
        + [
            _search(name, kind_, doc)
            for name, kind_, doc in RESULT_PARAMS
            if name != "_sort" or kind.sortable
        ],
    }
    if kind.documentation:
        resource["documentation"] = kind.documentation
    if kind.name in TYPES:  # _include/_revinclude, vread, history, $everything (h16-records)
        resource |= record_capabilities(kind.name, interactions)
    return resource


# Bulk Data Access IG v2.0.0 (ketaclinic/fhir/bulk/): system, Patient and Group export.
_BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
BULK_OPERATIONS = [
    {
        "name": "export",
        "definition": f"{_BULK}/export",
        "documentation": "GET or POST (a Parameters body) [base]/$export with Prefer: "
        "respond-async (administrators; SMART programs within their scopes): _type, _since, "
        "_until, _typeFilter, _outputFormat (application/fhir+ndjson), _elements (tagged "
        "SUBSETTED), includeAssociatedData (LatestProvenanceResources, "
        "RelevantProvenanceResources: the records' Provenance)",
    },
    {
        "name": "patient-export",
        "definition": f"{_BULK}/patient-export",
        "documentation": "As $export, for the Patient compartment; POST takes patient "
        "(Patient references) to narrow it",
    },
    {
        "name": "group-export",
        "definition": f"{_BULK}/group-export",
        "documentation": "As Patient/$export, for a Group's members (SMART: Group read); "
        "POST takes patient (members of the Group)",
    },
]


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": "KetaClinic",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "KetaClinic"},
        "implementation": {"description": "KetaClinic FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "application/json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": "Authorization: Bearer <token> (ketaclinic apitoken); "
                    "patients see only their own record.",
                    # SMART Backend Services: programs get tokens at auth/token (fhir/smart/).
                    **capability_security(base_url),
                },
                "documentation": "Searches page with _count and Bundle.link next/previous "
                "(stable while records are added); unknown parameters are ignored and named in "
                "an OperationOutcome entry, or refused with 400 under Prefer: handling=strict.",
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "POST [base] with a transaction Bundle of Patients and "
                        "their Conditions, AllergyIntolerances, score Observations (LOINC total "
                        "of one of our instruments) and QuestionnaireResponses: POST entries, "
                        "urn:uuid and conditional references; all or nothing, every refused "
                        "entry named. Administrator, clinician and intake (who may register "
                        "patients), or a SMART program whose create scopes cover every entry.",
                    }
                ],
                "resource": [
                    _searchable(QUESTIONNAIRE, versioned=False),
                    _searchable(ORGANIZATION),
                    *(_searchable(kind) for kind in TYPES.values()),
                    BINARY_CAPABILITY,
                ],
                "operation": BULK_OPERATIONS,
            }
        ],
    }
