"""A session's dose order as an R4 MedicationRequest (intent ``order``; id = the session's).

What the order says comes from what the courses and infusions apps record: the amount is the
course protocol's mg/kg (or fixed mg), or the prescriber's later dose order for the course
(``courses.DoseOrder``) in force when the dose was calculated; the calculated dose, pump rate
and weight are the session's latest dose calculation (``infusions.DoseCheck``). The requester
is the prescriber who approved the amount: the clinician who wrote that dose order, else the
clinician who started the course on its protocol. Only sessions with a dose calculation have
one. Dose-rate types from http://terminology.hl7.org/CodeSystem/dose-rate-type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from fhir.resources.R4B.medicationrequest import MedicationRequest as FhirMedicationRequest

from ketaclinic.courses.models import DoseOrder
from ketaclinic.fhir.resources.common import (
    code_filter,
    id_filter,
    pk_lookup,
    reference_filter,
    uuid_or_none,
    validated,
)
from ketaclinic.fhir.resources.container import (
    KETAMINE_CONCEPT,
    UCUM,
    medication_id,
    session_containers,
)
from ketaclinic.fhir.resources.encounter import SESSION_LAST_UPDATED
from ketaclinic.fhir.resources.medication import ROUTES, SNOMED
from ketaclinic.fhir.resources.practitioner import practitioner_id
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source, date_filter
from ketaclinic.infusions.models import DoseCheck, Session, SessionStatus, SignedRecord
from ketaclinic.patients.selectors import patients_visible_to

STATUS_SYSTEM = "http://hl7.org/fhir/CodeSystem/medicationrequest-status"
INTENT_SYSTEM = "http://hl7.org/fhir/CodeSystem/medicationrequest-intent"
DOSE_RATE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"
# Session status -> MedicationRequest.status (http://hl7.org/fhir/R4/valueset-medicationrequest-status.html):
# the dose is given from the start of the infusion on.
REQUEST_STATUS = {
    SessionStatus.SCHEDULED: "active",
    SessionStatus.CHECKED_IN: "active",
    SessionStatus.INFUSING: "completed",
    SessionStatus.RECOVERY: "completed",
    SessionStatus.DISCHARGED: "completed",
    SessionStatus.SIGNED: "completed",
    SessionStatus.CANCELLED: "cancelled",
}


def _number(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


def _rate_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": DOSE_RATE_TYPE, "code": code, "display": display}]}


def _order_in_force(orders: list[DoseOrder], dose: DoseCheck) -> DoseOrder | None:
    """The course's latest dose order written before the dose was calculated."""
    earlier = [o for o in orders if o.ordered_at <= dose.calculated_at]
    return max(earlier, key=lambda o: (o.ordered_at, o.pk)) if earlier else None


def medication_request_json(
    session: Session, dose: DoseCheck, order: DoseOrder | None, containers: list[int]
) -> dict[str, Any]:
    course = session.course
    protocol = course.protocol
    per_kg = protocol.mg_per_kg is not None
    unit = "mg/kg" if per_kg else "mg"
    prescriber = order.ordered_by_id if order is not None else course.started_by_id
    authored = order.ordered_at if order is not None else course.started_at
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(session.pk),
        "status": REQUEST_STATUS.get(SessionStatus(session.status), "unknown"),
        "intent": "order",
    }
    if len(containers) == 1:
        resource["medicationReference"] = {
            "reference": f"Medication/{medication_id(containers[0])}"
        }
    else:
        resource["medicationCodeableConcept"] = KETAMINE_CONCEPT
    resource |= {
        "subject": {"reference": f"Patient/{course.patient_id}"},
        "encounter": {"reference": f"Encounter/{session.pk}"},
        "authoredOn": authored.isoformat(),
        "requester": {"reference": f"Practitioner/{practitioner_id(prescriber)}"},
    }
    where = "the prescriber's dose order" if order is not None else "the course protocol"
    text = (
        f"{_number(dose.amount)} {unit} ({where}, {protocol.name} v{protocol.version}): "
        f"{_number(dose.dose_mg)} mg calculated"
    )
    if dose.weight_kg is not None:
        text += f" for {_number(dose.weight_kg)} kg"
    if dose.infusion_minutes:
        text += f" over {dose.infusion_minutes} min"
    dosage: dict[str, Any] = {"text": text}
    route = ROUTES.get(str(protocol.route).lower())
    if route is not None:
        dosage["route"] = {
            "coding": [{"system": SNOMED, "code": route[0], "display": route[1]}],
            "text": protocol.route,
        }
    calculated: dict[str, Any] = {
        "type": _rate_type("calculated", "Calculated"),
        "doseQuantity": _quantity(dose.dose_mg, "mg"),
    }
    if dose.rate_ml_per_h is not None:
        calculated["rateQuantity"] = _quantity(dose.rate_ml_per_h, "mL/h")
    dosage["doseAndRate"] = [
        {"type": _rate_type("ordered", "Ordered"), "doseQuantity": _quantity(dose.amount, unit)},
        calculated,
    ]
    resource["dosageInstruction"] = [dosage]
    if order is not None and order.rationale:
        resource["note"] = [{"text": order.rationale}]
    return resource


def _build(rows: Sequence[Any]) -> list[Built]:
    sessions = {s.pk: s for s in rows}
    latest: dict[Any, DoseCheck] = {}
    for dose in DoseCheck.objects.filter(session_id__in=sessions).order_by("calculated_at", "pk"):
        latest[dose.session_id] = dose
    orders: dict[Any, list[DoseOrder]] = {}
    course_ids = {s.course_id for s in rows}
    for row in DoseOrder.objects.filter(course_id__in=course_ids):
        orders.setdefault(row.course_id, []).append(row)
    drawn = session_containers(sessions)
    built = []
    for s in rows:
        dose = latest[s.pk]
        order = _order_in_force(orders.get(s.course_id, []), dose)
        resource = medication_request_json(s, dose, order, drawn.get(s.pk, []))
        built.append(
            Built(
                str(s.pk),
                validated(FhirMedicationRequest, resource),
                s.course.patient_id,
                getattr(s, LAST_UPDATED),
            )
        )
    return built


def _has_dose() -> Exists:
    return Exists(DoseCheck.objects.filter(session=OuterRef("pk")))


def _rows(user: Any) -> QuerySet[Any]:
    return Session.objects.filter(_has_dose(), course__patient__in=patients_visible_to(user))


def _latest(queryset: QuerySet[Any], field: str) -> Subquery:
    return Subquery(
        queryset.filter(session=OuterRef("pk"))
        .values("session")
        .annotate(latest=Max(field))
        .values("latest")[:1],
        output_field=DateTimeField(),
    )


# The request changes with the session's status (chart entries, signing) and with a new dose
# calculation or its second check.
REQUEST_LAST_UPDATED = Greatest(
    SESSION_LAST_UPDATED,
    Coalesce(_latest(DoseCheck.objects.all(), "calculated_at"), F("created_at")),
    Coalesce(_latest(DoseCheck.objects.all(), "second_checked_at"), F("created_at")),
    Coalesce(_latest(SignedRecord.objects.all(), "signed_at"), F("created_at")),
    output_field=DateTimeField(),
)

_STATUS = {
    (STATUS_SYSTEM, fhir): Q(status__in=[s for s, f in REQUEST_STATUS.items() if f == fhir])
    for fhir in set(REQUEST_STATUS.values())
}
_patient = reference_filter("course__patient", "Patient", uuid_or_none)

MEDICATION_REQUEST_SOURCE = Source(
    rows=_rows,
    inserted="created_at",
    last_updated=REQUEST_LAST_UPDATED,
    dates=F("start"),
    filters={
        "_id": id_filter(uuid_or_none),
        "_lastUpdated": date_filter(LAST_UPDATED),
        "patient": _patient,
        "subject": _patient,
        "encounter": reference_filter("pk", "Encounter", uuid_or_none),
        "status": code_filter(_STATUS),
        "intent": code_filter({(INTENT_SYSTEM, "order"): Q(pk__isnull=False)}),
    },
    build=_build,
    lookup=pk_lookup(uuid_or_none),
    prefetch=("course", "course__protocol"),
)
