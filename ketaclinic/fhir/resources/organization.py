"""The clinic itself as an R4 Organization (one resource, id ``clinic``), named by the
``KETACLINIC_CLINIC_NAME`` setting; the chairs (Locations) are managed by it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from fhir.resources.R4B.organization import Organization as FhirOrganization

from ketaclinic.fhir.resources.common import validated
from ketaclinic.fhir.search.engine import Built

CLINIC_ID = "clinic"


def organization_json() -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": CLINIC_ID,
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        "name": str(settings.KETACLINIC_CLINIC_NAME),
    }


def organizations() -> list[Built]:
    """Every Organization we serve: the clinic (its lastUpdated is not tracked)."""
    return [Built(CLINIC_ID, validated(FhirOrganization, organization_json()), None, None)]
