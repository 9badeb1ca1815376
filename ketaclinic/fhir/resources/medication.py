"""The dose given in a signed session as an R4 MedicationAdministration.

Built from the signed record's frozen snapshot (``infusions.SignedRecord``), never from the
live chart: what was signed is what is served. Route codes are SNOMED CT from FHIR's
route-codes value set (http://hl7.org/fhir/R4/valueset-route-codes.html)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.medicationadministration import (
    MedicationAdministration as FhirMedicationAdministration,
)

from ketaclinic.fhir.resources.common import code_filter, reference_filter, uuid_or_none, validated
from ketaclinic.fhir.resources.container import medication_id, session_containers
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.infusions.models import DoseCheck, SignedRecord
from ketaclinic.patients.selectors import patients_visible_to

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ROUTES = {
    "iv": ("47625008", "Intravenous route"),
    "sc": ("34206005", "Subcutaneous route"),
    "intranasal": ("46713006", "Nasal route"),
}
MA_STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/medication-admin-status"


def _first_at(snapshot: dict[str, Any], kind: str, last: bool = False) -> str | None:
    times = [e["at"] for e in snapshot.get("entries", []) if e.get("kind") == kind and e.get("at")]
    if not times:
        return None
    return str(times[-1] if last else times[0])


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def medication_administration_json(
    record: SignedRecord, medication: str | None = None, request: bool = False
) -> dict[str, Any]:
    """``medication``: the Medication (ledger container) id when the dose was drawn from one
    container; ``request``: whether the session has a dose order (MedicationRequest, same id)."""
    snapshot = json.loads(record.snapshot_json)
    protocol = snapshot.get("protocol", {})
    given = snapshot.get("administered_mg")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": str(record.session_id),
        "status": "completed" if given is not None else "not-done",
    }
    if medication is not None:
        resource["medicationReference"] = {"reference": f"Medication/{medication}"}
    else:
        resource["medicationCodeableConcept"] = {
            "text": str(protocol.get("medication") or "ketamine")
        }
    resource |= {
        "subject": {"reference": f"Patient/{snapshot['patient']['id']}"},
        "context": {"reference": f"Encounter/{record.session_id}"},
    }
    if request:
        resource["request"] = {"reference": f"MedicationRequest/{record.session_id}"}
    start = _first_at(snapshot, "infusion_start")
    stop = _first_at(snapshot, "infusion_stop", last=True)
    if start is not None:
        period = {"start": start}
        # FHIR's per-1: the end may not precede the start; a stop charted before the start
        # (a late correction) is left in the signed chart, not put into the period.
        if stop is not None and _when(stop) >= _when(start):
            period["end"] = stop
        resource["effectivePeriod"] = period
    else:
        resource["effectiveDateTime"] = snapshot.get("booked_start") or record.signed_at.isoformat()
    dosage: dict[str, Any] = {}
    route = ROUTES.get(str(protocol.get("route", "")).lower())
    if route is not None:
        dosage["route"] = {
            "coding": [{"system": SNOMED, "code": route[0], "display": route[1]}],
            "text": str(protocol.get("route")),
        }
    if given is not None:
        dosage["dose"] = {"value": float(given), "unit": "mg", "system": UCUM, "code": "mg"}
        volume = snapshot.get("administered_volume_ml")
        if volume is not None:
            dosage["text"] = f"{given} mg in {volume} mL given (signed chart)"
    if dosage:
        resource["dosage"] = dosage
    return resource


def _build(rows: Sequence[Any]) -> list[Built]:
    session_ids = [r.session_id for r in rows]
    drawn = session_containers(session_ids)
    ordered = set(
        DoseCheck.objects.filter(session_id__in=session_ids).values_list("session_id", flat=True)
    )
    built = []
    for r in rows:
        containers = drawn.get(r.session_id, [])
        medication = medication_id(containers[0]) if len(containers) == 1 else None
        resource = medication_administration_json(r, medication, r.session_id in ordered)
        built.append(
            Built(
                str(r.session_id),
                validated(FhirMedicationAdministration, resource),
                r.session.course.patient_id,
                getattr(r, LAST_UPDATED),
            )
        )
    return built


def _rows(user: Any) -> QuerySet[Any]:
    return SignedRecord.objects.filter(session__course__patient__in=patients_visible_to(user))


def _lookup(raw: str) -> Q | None:
    key = uuid_or_none(raw)
    return None if key is None else Q(session_id=key)


def _ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(session_id__in=[k for k in map(uuid_or_none, raw.split(",")) if k])


_patient = reference_filter("session__course__patient", "Patient", uuid_or_none)

MEDICATION_ADMINISTRATION_SOURCE = Source(
    rows=_rows,
    inserted="signed_at",
    last_updated=F("signed_at"),  # a signed record never changes
    dates=F("session__start"),
    filters={
        "_id": _ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "context": reference_filter("session", "Encounter", uuid_or_none),
        "effective-time": date_filter("session__start"),
        "status": code_filter(
            {
                (MA_STATUS_SYSTEM, "completed"): Q(session__administered_mg__isnull=False),
                (MA_STATUS_SYSTEM, "not-done"): Q(session__administered_mg__isnull=True),
            }
        ),
    },
    build=_build,
    lookup=_lookup,
    prefetch=("session__course",),
)
