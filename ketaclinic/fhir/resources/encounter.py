"""An infusion session as an R4 Encounter (ambulatory), in its chair, for its patient."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from fhir.resources.R4B.encounter import Encounter as FhirEncounter

from ketaclinic.fhir.resources.common import (
    code_filter,
    id_filter,
    pk_lookup,
    reference_filter,
    uuid_or_none,
    validated,
)
from ketaclinic.fhir.resources.practitioner import location_id, location_pk
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.infusions.models import ChartEntry, Session, SessionStatus
from ketaclinic.patients.selectors import patients_visible_to

ENCOUNTER_STATUS_SYSTEM = "http://hl7.org/fhir/encounter-status"
# Our session status -> Encounter.status (http://hl7.org/fhir/R4/valueset-encounter-status.html)
ENCOUNTER_STATUS = {
    SessionStatus.SCHEDULED: "planned",
    SessionStatus.CHECKED_IN: "arrived",
    SessionStatus.INFUSING: "in-progress",
    SessionStatus.RECOVERY: "in-progress",
    SessionStatus.DISCHARGED: "finished",
    SessionStatus.SIGNED: "finished",
    SessionStatus.CANCELLED: "cancelled",
}


def _last_charted() -> Subquery:
    return Subquery(
        ChartEntry.objects.filter(session=OuterRef("pk"))
        .order_by("-recorded_at")
        .values("recorded_at")[:1],
        output_field=DateTimeField(),
    )


SESSION_LAST_UPDATED = Greatest(
    F("created_at"), Coalesce(_last_charted(), F("created_at")), output_field=DateTimeField()
)


def encounter_json(session: Session) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": str(session.pk),
        "status": ENCOUNTER_STATUS.get(SessionStatus(session.status), "unknown"),
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "type": [{"text": "Ketamine infusion session"}],
        "subject": {"reference": f"Patient/{session.course.patient_id}"},
        "period": {"start": session.start.isoformat()},
        "location": [
            {
                "location": {
                    "reference": f"Location/{location_id(session.chair_id)}",
                    "display": session.chair.name,
                }
            }
        ],
    }


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            str(s.pk),
            validated(FhirEncounter, encounter_json(s)),
            s.course.patient_id,
            getattr(s, LAST_UPDATED),
        )
        for s in rows
    ]


def _rows(user: Any) -> QuerySet[Any]:
    return Session.objects.filter(course__patient__in=patients_visible_to(user))


def _ours(fhir_status: str) -> list[str]:
    return [ours for ours, theirs in ENCOUNTER_STATUS.items() if theirs == fhir_status]


_STATUS = {
    (ENCOUNTER_STATUS_SYSTEM, fhir): Q(
        status__in=[s for s, f in ENCOUNTER_STATUS.items() if f == fhir]
    )
    for fhir in set(ENCOUNTER_STATUS.values())
}
_patient = reference_filter("course__patient", "Patient", uuid_or_none)

ENCOUNTER_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=SESSION_LAST_UPDATED,
    dates=F("start"),
    filters={
        "_id": id_filter(uuid_or_none),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("start"),
        "status": code_filter(_STATUS),
        "location": reference_filter("chair", "Location", location_pk),
    },
    build=_build,
    lookup=pk_lookup(uuid_or_none),
    prefetch=("course", "chair"),
)
