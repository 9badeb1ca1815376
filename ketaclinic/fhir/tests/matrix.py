"""URLs and bodies for the FHIR rows of tests/test_url_matrix.py added with issue 16's clinical
record (Condition, AllergyIntolerance, Medication, MedicationRequest, the transaction)."""

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
