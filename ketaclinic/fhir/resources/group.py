"""Cohorts as R4 Groups (http://hl7.org/fhir/R4/group.html): the unit of a Bulk Data
``Group/{id}/$export``. An actual group of persons: its members listed; a protocol cohort also
says what defines it (a characteristic: a course on that protocol). Only those who may export
(``fhir.export``) see Groups: a Group lists patients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from fhir.resources.R4B.group import Group as FhirGroup

from ketaclinic.accounts.access import user_can
from ketaclinic.fhir.bulk.members import cohort_patient_ids
from ketaclinic.fhir.bulk.models import Cohort, CohortKind
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import id_filter, pk_lookup, uuid_or_none, validated
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter


def group_json(cohort: Cohort, members: Sequence[Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Group",
        "id": str(cohort.pk),
        "active": True,
        "type": "person",
        "actual": True,
        "name": cohort.name,
        "quantity": len(members),
    }
    if cohort.kind == CohortKind.PROTOCOL:
        resource["characteristic"] = [
            {
                "code": {"text": "Course of treatment on protocol"},
                "valueCodeableConcept": {
                    "coding": [
                        {"system": f"{canonical_base()}/protocol", "code": cohort.protocol_code}
                    ]
                },
                "exclude": False,
            }
        ]
    if members:
        resource["member"] = [{"entity": {"reference": f"Patient/{pk}"}} for pk in members]
    return resource


def _rows(user: Any) -> QuerySet[Any]:
    if not user_can(user, "fhir.export"):
        return Cohort.objects.none()
    return Cohort.objects.all()


def _build(rows: Sequence[Any]) -> list[Built]:
    return [
        Built(
            str(c.pk),
            validated(FhirGroup, group_json(c, list(cohort_patient_ids(c)))),
            None,
            getattr(c, LAST_UPDATED),
        )
        for c in rows
    ]


def _lookup(raw: str) -> Q | None:
    return pk_lookup(uuid_or_none)(raw)


GROUP_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=F("updated_at"),
    dates=None,
    filters={
        "_id": id_filter(uuid_or_none),
        "_lastUpdated": date_filter(LAST_UPDATED),
    },
    build=_build,
    lookup=_lookup,
)
