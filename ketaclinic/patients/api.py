from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PatientIn, PatientOut, PatientPatch

router = Router(tags=["patients"])

# Ids are taken as plain text and parsed by the selector, so that a malformed id answers the
# same JSON 404 as an unknown one (and as another patient's, for a patient user).


@router.post("", response={201: PatientOut}, url_name="patients")
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    patient = services.patient_create(acting_user=request.user, **payload.model_dump())
    return Status(201, patient)


@router.get("", response=list[PatientOut], url_name="patients")
def patient_list(request: HttpRequest, q: Query[str] = "") -> list[Patient]:
    return selectors.patient_list_for_user(request.user, q[:100])


@router.get("/{patient_id}", response=PatientOut, url_name="patient")
def patient_get(request: HttpRequest, patient_id: str) -> Patient:
    return selectors.patient_get_for_user(request.user, patient_id)


@router.patch("/{patient_id}", response=PatientOut, url_name="patient")
def patient_patch(request: HttpRequest, patient_id: str, payload: PatientPatch) -> Patient:
    patient = selectors.patient_get_for_user(request.user, patient_id, audit=False)
    return services.patient_update(
        acting_user=request.user, patient=patient, changes=payload.model_dump(exclude_unset=True)
    )
