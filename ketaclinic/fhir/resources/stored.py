"""Resources stored as JSON when they were written (score Observations, QuestionnaireResponses)
and safety flags as R4 Flags. Stored ones are served as stored (validated at write time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from fhir.resources.R4B.flag import Flag as FhirFlag

from ketaclinic.fhir.flag import flag_json
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.observation import CATEGORY_SYSTEM
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.common import (
    Filter,
    code_filter,
    id_filter,
    int_id,
    pk_lookup,
    reference_filter,
    uuid_or_none,
    validated,
)
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.fhir.search.params import token
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.patients.selectors import patients_visible_to


def _stored_rows(resource_type: str) -> Any:
    def rows(user: Any) -> QuerySet[Any]:
        return StoredResource.objects.filter(
            resource_type=resource_type, patient__in=patients_visible_to(user)
        ).only("resource_id", "json_text", "patient_id", "created_at", "effective")

    return rows


def _build_stored(rows: Sequence[Any]) -> list[Built]:
    return [Built(r.resource_id, r.json_text, r.patient_id, getattr(r, LAST_UPDATED)) for r in rows]


def _resource_ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    return rows.filter(resource_id__in=raw.split(","))


def _stored_code(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    condition = Q(pk__in=[])
    for part in raw.split(","):
        wanted = token(part)
        one = Q(code=wanted.code)
        if wanted.system is not None:
            one &= Q(code_system=wanted.system)
        condition |= one
    return rows.filter(condition)


def _by_resource_id(raw: str) -> Q | None:
    return Q(resource_id=raw)


_patient = reference_filter("patient", "Patient", uuid_or_none)
_everything = Q(pk__isnull=False)

SCORE_SOURCE = Source(
    rows=_stored_rows("Observation"),
    inserted="created_at",
    last_updated=F("created_at"),  # stored once, never changed
    dates=F("effective"),
    filters={
        "_id": _resource_ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("effective"),
        "code": _stored_code,
        "category": code_filter({(CATEGORY_SYSTEM, "survey"): _everything}),
    },
    build=_build_stored,
    lookup=_by_resource_id,
)

RESPONSE_SOURCE = Source(
    rows=_stored_rows("QuestionnaireResponse"),
    inserted="created_at",
    last_updated=F("created_at"),
    dates=F("effective"),
    filters={
        "_id": _resource_ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "authored": date_filter("effective"),
    },
    build=_build_stored,
    lookup=_by_resource_id,
)


def _flags(user: Any) -> QuerySet[Any]:
    return SafetyFlag.objects.filter(patient__in=patients_visible_to(user))


def _build_flags(rows: Sequence[Any]) -> list[Built]:
    base = canonical_base()
    return [
        Built(
            str(f.pk),
            validated(FhirFlag, flag_json(f, base)),
            f.patient_id,
            getattr(f, LAST_UPDATED),
        )
        for f in rows
    ]


def _flag_status(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
    if raw not in ("active", "inactive"):
        raise ValueError("status is active or inactive")
    active = Q(status=FlagStatus.ACTIVE)
    return rows.filter(active if raw == "active" else ~active)


flag_pk = int_id("")
_flag_ids: Filter = id_filter(flag_pk)

FLAG_SOURCE = Source(
    rows=_flags,
    inserted="opened_at",
    last_updated=Coalesce(F("acknowledged_at"), F("opened_at")),
    dates=F("opened_at"),
    filters={
        "_id": _flag_ids,
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "date": date_filter("opened_at"),
        "status": _flag_status,
    },
    build=_build_flags,
    lookup=pk_lookup(flag_pk),
)
