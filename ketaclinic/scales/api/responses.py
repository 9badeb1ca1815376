"""Rating scales and safety flags. Mounted at the API root: paths are written out in full."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ketaclinic.api.errors import problems_response
from ketaclinic.patients import services as patient_services
from ketaclinic.patients.models import SafetyFlag
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales import selectors, services
from ketaclinic.scales.models import Administration
from ketaclinic.scales.schemas import (
    AcknowledgeIn,
    AdministrationIn,
    AdministrationOut,
    DetailOut,
    FlagStatusLiteral,
    InstrumentCode,
    SafetyFlagOut,
)

router = Router(tags=["scales"])


def _problems(exc: ValidationError) -> list[dict[str, Any]]:
    """Problems with field paths split at dots: ``answers.9`` is at ["body", "answers", "9"]."""
    problems: list[dict[str, Any]] = []
    for field, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else []:
        for error in errors:
            message = " ".join(error.messages)
            problems.append(
                {
                    "loc": ["body", *field.split(".", 1)],
                    "field": field,
                    "msg": message[:300],
                    "type": error.code or "invalid",
                }
            )
    return problems


@router.get(
    "/patients/{uuid:patient_id}/flags",
    response=list[SafetyFlagOut],
    url_name="patient_flags",
)
def flags_list(
    request: HttpRequest, patient_id: UUID, status: FlagStatusLiteral = "active"
) -> list[SafetyFlag]:
    return selectors.safety_flags_list_for_user(request.user, patient_id, status=status)


@router.post(
    "/patients/{uuid:patient_id}/flags/{int:flag_id}/acknowledge",
    response={200: SafetyFlagOut, 409: DetailOut},
    url_name="patient_flag_acknowledge",
)
def flag_acknowledge(
    request: HttpRequest, patient_id: UUID, flag_id: int, payload: AcknowledgeIn
) -> SafetyFlag | Status[dict[str, str]]:
    flag = selectors.safety_flag_get_for_user(request.user, patient_id, flag_id)
    try:
        return patient_services.safety_flag_acknowledge(
            acting_user=request.user, flag=flag, note=payload.note
        )
    except patient_services.FlagAlreadyAcknowledged:
        return Status(409, {"detail": "This flag was already acknowledged."})


@router.post(
    "/patients/{uuid:patient_id}/administrations",
    response={201: AdministrationOut},
    url_name="patient_administrations",
)
def administration_create(
    request: HttpRequest, patient_id: UUID, payload: AdministrationIn
) -> Status[Administration] | HttpResponse:
    patient = patient_get_for_user(request.user, patient_id, audit=False)
    try:
        administration = services.administration_record(
            acting_user=request.user,
            patient=patient,
            instrument_code=payload.instrument,
            answers=payload.answers,
            administered_at=payload.administered_at,
            mode=payload.mode,
        )
    except ValidationError as exc:
        problems = _problems(exc)
        if not problems:
            raise
        return problems_response(request, problems)
    return Status(201, administration)


@router.get(
    "/patients/{uuid:patient_id}/administrations",
    response=list[AdministrationOut],
    url_name="patient_administrations",
)
def administrations_list(
    request: HttpRequest, patient_id: UUID, instrument: InstrumentCode | None = None
) -> list[Administration]:
    return selectors.administrations_list_for_user(request.user, patient_id, instrument=instrument)
