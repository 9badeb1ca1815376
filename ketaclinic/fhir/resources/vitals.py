"""Vital signs charted in a session as R4 Observations of the vital-signs profile.

One reading gives up to four Observations: blood pressure (panel 85354-9 with systolic 8480-6
and diastolic 8462-4 components), heart rate 8867-4, oxygen saturation 59408-5 (with 2708-6)
and respiratory rate 9279-1: the LOINC codes and profiles of FHIR R4's vital signs
(http://hl7.org/fhir/R4/observation-vitalsigns.html; ../shared/domain/interop.md, MDC -> LOINC).
A monitor reading not yet confirmed by a nurse is ``preliminary``; one marked as artefact is
``entered-in-error``; the rest are ``final``. Ids: ``vitals-<reading>-<bp|hr|spo2|rr>``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from fhir.resources.R4B.observation import Observation as FhirObservation

from ketaclinic.fhir.observation import CATEGORY_SYSTEM
from ketaclinic.fhir.resources.common import code_filter, reference_filter, uuid_or_none, validated
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.infusions.models import VitalsReading, VitalsSource
from ketaclinic.patients.selectors import patients_visible_to

UCUM = "http://unitsofmeasure.org"
PROFILE = "http://hl7.org/fhir/StructureDefinition/"
VITAL_SIGNS = {
    "coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}]
}


@dataclass(frozen=True)
class Measure:
    key: str
    loinc: tuple[tuple[str, str], ...]  # (code, display), the first is the Observation's code
    profile: str
    field: str  # the reading's column that must hold a value
    value: Callable[[VitalsReading], dict[str, Any]]


def _quantity(value: int | None, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _bp(reading: VitalsReading) -> dict[str, Any]:
    def part(code: str, display: str, value: int | None) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "valueQuantity": _quantity(value, "mmHg", "mm[Hg]"),
        }

    components = [
        part("8480-6", "Systolic blood pressure", reading.systolic_mmhg),
        part("8462-4", "Diastolic blood pressure", reading.diastolic_mmhg),
    ]
    return {"component": [c for c in components if c["valueQuantity"]["value"] is not None]}


MEASURES = (
    Measure(
        "bp",
        (("85354-9", "Blood pressure panel with all children optional"),),
        "bp",
        "systolic_mmhg",
        _bp,
    ),
    Measure(
        "hr",
        (("8867-4", "Heart rate"),),
        "heartrate",
        "heart_rate_bpm",
        lambda r: {"valueQuantity": _quantity(r.heart_rate_bpm, "beats/minute", "/min")},
    ),
    Measure(
        "spo2",
        (
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
            ("2708-6", "Oxygen saturation in Arterial blood"),
        ),
        "oxygensat",
        "spo2_percent",
        lambda r: {"valueQuantity": _quantity(r.spo2_percent, "%", "%")},
    ),
    Measure(
        "rr",
        (("9279-1", "Respiratory rate"),),
        "resprate",
        "respiratory_rate",
        lambda r: {"valueQuantity": _quantity(r.respiratory_rate, "breaths/minute", "/min")},
    ),
)


def vitals_status(reading: VitalsReading) -> str:
    if reading.artefact:
        return "entered-in-error"
    if reading.source == VitalsSource.MONITOR and reading.confirmed_at is None:
        return "preliminary"
    return "final"


def vitals_id(reading_pk: int, measure: Measure) -> str:
    return f"vitals-{reading_pk}-{measure.key}"


def vitals_json(reading: VitalsReading, measure: Measure) -> dict[str, Any]:
    display = measure.loinc[0][1]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": vitals_id(reading.pk, measure),
        "status": vitals_status(reading),
        "category": [VITAL_SIGNS],
        "code": {
            "coding": [{"system": LOINC, "code": c, "display": d} for c, d in measure.loinc],
            "text": display,
        },
        "subject": {"reference": f"Patient/{reading.session.course.patient_id}"},
        "encounter": {"reference": f"Encounter/{reading.session_id}"},
        "effectiveDateTime": reading.at.isoformat(),
        "issued": reading.recorded_at.isoformat(),
    } | measure.value(reading)
    performer = reading.confirmed_by_id or reading.recorded_by_id
    if performer is not None:
        resource["performer"] = [{"reference": f"Practitioner/{practitioner_id(performer)}"}]
    if reading.source == VitalsSource.MONITOR and reading.device:
        resource["device"] = {"display": reading.device}
    if reading.artefact and reading.artefact_reason:
        resource["note"] = [{"text": f"Artefact: {reading.artefact_reason}"}]
    return resource


READING_LAST_UPDATED = Greatest(
    F("recorded_at"),
    Coalesce(F("confirmed_at"), F("recorded_at")),
    Coalesce(F("artefact_at"), F("recorded_at")),
    output_field=DateTimeField(),
)


def _source(measure: Measure) -> Source:
    def rows(user: Any) -> QuerySet[Any]:
        return VitalsReading.objects.filter(
            session__course__patient__in=patients_visible_to(user),
            **{f"{measure.field}__isnull": False},
        )

    def build(readings: Sequence[Any]) -> list[Built]:
        return [
            Built(
                vitals_id(r.pk, measure),
                validated(FhirObservation, vitals_json(r, measure)),
                r.session.course.patient_id,
                getattr(r, LAST_UPDATED),
                profile=PROFILE + measure.profile,
            )
            for r in readings
        ]

    def pk_of(raw: str) -> int | None:
        head, _, key = raw.rpartition("-")
        number = head.removeprefix("vitals-")
        if key != measure.key or not head.startswith("vitals-") or not number.isdigit():
            return None
        return int(number)

    def lookup(raw: str) -> Q | None:
        pk = pk_of(raw)
        return None if pk is None else Q(pk=pk)

    def ids(rows: QuerySet[Any], raw: str) -> QuerySet[Any]:
        return rows.filter(pk__in=[k for k in map(pk_of, raw.split(",")) if k is not None])

    patient = reference_filter("session__course__patient", "Patient", uuid_or_none)
    everything = Q(pk__isnull=False)
    return Source(
        rows=rows,
        inserted="recorded_at",
        last_updated=READING_LAST_UPDATED,
        dates=F("at"),
        filters={
            "_id": ids,
            "_lastUpdated": date_filter(LAST_UPDATED),
            "patient": patient,
            "subject": patient,
            "encounter": reference_filter("session", "Encounter", uuid_or_none),
            "date": date_filter("at"),
            "code": code_filter({(LOINC, code): everything for code, _ in measure.loinc}),
            "category": code_filter({(CATEGORY_SYSTEM, "vital-signs"): everything}),
        },
        build=build,
        lookup=lookup,
        prefetch=("session__course",),
    )


VITALS_SOURCES = tuple(_source(m) for m in MEASURES)
