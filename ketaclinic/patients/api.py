from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PatientIn, PatientOut, PatientPatch

router = Router(tags=["patients"])


@router.post("", response={201: PatientOut}, url_name="patients")
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    patient = services.patient_create(acting_user=request.user, **payload.model_dump())
    return Status(201, patient)


@router.get("", response=list[PatientOut], url_name="patients")
def patient_list(request: HttpRequest, q: Query[str] = "") -> list[Patient]:
    return selectors.patient_list_for_user(request.user, q[:100])


@router.get("/{uuid:patient_id}", response=PatientOut, url_name="patient")
def patient_get(request: HttpRequest, patient_id: UUID) -> Patient:
    return selectors.patient_get_for_user(request.user, patient_id)


@router.patch("/{uuid:patient_id}", response=PatientOut, url_name="patient")
def patient_patch(request: HttpRequest, patient_id: UUID, payload: PatientPatch) -> Patient:
    patient = selectors.patient_get_for_user(request.user, patient_id, audit=False)
    return services.patient_update(
        acting_user=request.user, patient=patient, changes=payload.model_dump(exclude_unset=True)
    )
