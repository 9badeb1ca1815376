"""The CapabilityStatement at /fhir/R4/metadata: what this server supports."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

FHIR_VERSION = "4.0.1"


def _search(name: str, kind: str, doc: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "documentation": doc}


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": "KetaClinic",
        "kind": "instance",
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
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "create"},
                        ],
                        "documentation": "Every built-in rating scale; create (admin) imports a "
                        "definition linked by LOINC code to a built-in instrument.",
                        "searchParam": [
                            _search("_id", "token", "the id"),
                            _search("code", "token", "the LOINC panel code (system|code)"),
                            _search("url", "uri", "the canonical URL"),
                            _search("name", "string", "name or title, starts with, any case"),
                        ],
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "interaction": [{"code": "read"}, {"code": "create"}],
                        "documentation": "A completed response to a built-in or imported "
                        "Questionnaire: validated, scored, stored; the score is an Observation.",
                    },
                    {
                        "type": "Observation",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            _search("patient", "reference", "required: the patient's id"),
                            _search("code", "token", "e.g. http://loinc.org|70274-6"),
                        ],
                    },
                    {
                        "type": "Flag",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            _search("patient", "reference", "required: the patient's id"),
                            _search("status", "token", "active or inactive"),
                        ],
                    },
                ],
            }
        ],
    }
