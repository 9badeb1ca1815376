"""Reads of the FHIR API. Patient data is access-checked (``patient_get_for_user``: not found
for a record the user may not see) and every resource read is an audited read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.fhir import questionnaire as builtin
from ketaclinic.fhir.flag import flag_json
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.patients.selectors import patient_get_for_user, patients_visible_to

SEARCH_LIMIT = 200


def _token(value: str) -> tuple[str | None, str]:
    """``system|code`` -> (system, code); ``code`` -> (None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return (system or None), code
    return None, value


def questionnaire_search(params: dict[str, str]) -> list[tuple[str, str]]:
    """(id, JSON text) of the built-in and imported Questionnaires matching every parameter."""
    code_system, code = _token(params["code"]) if "code" in params else (None, None)
    url = params.get("url")
    name = params.get("name", "").lower()
    wanted_id = params.get("_id")
    found: list[tuple[str, str]] = []
    for instrument, text in builtin.builtin_json_texts():
        if code is not None and (
            instrument.loinc_panel != code or code_system not in (None, LOINC)
        ):
            continue
        if url is not None and builtin.builtin_url(instrument.code) != url:
            continue
        if wanted_id is not None and builtin.builtin_id(instrument.code) != wanted_id:
            continue
        names = (builtin.computable_name(instrument).lower(), instrument.name.lower())
        if name and not any(n.startswith(name) for n in names):
            continue
        found.append((builtin.builtin_id(instrument.code), text))
    rows = StoredResource.objects.filter(resource_type="Questionnaire")
    if code is not None:
        rows = rows.filter(code=code)
        if code_system is not None:
            rows = rows.filter(code_system=code_system)
    if url is not None:
        rows = rows.filter(url=url)
    if wanted_id is not None:
        rows = rows.filter(resource_id=wanted_id)
    if name:
        rows = rows.filter(name__istartswith=name)
    found.extend(rows.order_by("created_at").values_list("resource_id", "json_text"))
    return found


def questionnaire_get(resource_id: str) -> str:
    found = questionnaire_search({"_id": resource_id})
    if not found:
        raise FhirProblem(404, [Issue("not-found", f"Questionnaire/{resource_id} is not known")])
    return found[0][1]


def _patient(user: Any, params: dict[str, str]) -> Patient:
    raw = params.get("patient", "").removeprefix("Patient/")
    if not raw:
        raise FhirProblem(400, [Issue("required", "the patient parameter is required", "patient")])
    try:
        return patient_get_for_user(user, raw, audit=False)
    except Patient.DoesNotExist:
        raise FhirProblem(404, [Issue("not-found", f"Patient/{raw} is not known")]) from None


def _audit(user: Any, patient: Patient, object_type: str, ids: Sequence[str]) -> None:
    targets = [AuditTarget(object_type, i, patient.pk) for i in ids] or [
        AuditTarget("Patient", str(patient.pk), patient.pk)
    ]
    with transaction.atomic():
        audit_record_many(actor=user, action=Action.READ, targets=targets)


def observation_search(user: Any, params: dict[str, str]) -> list[tuple[str, str]]:
    """(id, JSON text) of the patient's score Observations, newest first: one query."""
    patient = _patient(user, params)
    rows = StoredResource.objects.filter(patient=patient, resource_type="Observation")
    if "code" in params:
        system, code = _token(params["code"])
        rows = rows.filter(code=code)
        if system is not None:
            rows = rows.filter(code_system=system)
    found = list(
        rows.order_by("-effective", "-pk").values_list("resource_id", "json_text")[:SEARCH_LIMIT]
    )
    _audit(user, patient, "Observation", [resource_id for resource_id, _ in found])
    return found


def stored_get(user: Any, resource_type: str, resource_id: str) -> str:
    """One stored patient resource (Observation, QuestionnaireResponse), access-checked."""
    row = (
        StoredResource.objects.filter(
            resource_type=resource_type,
            resource_id=resource_id,
            patient__in=patients_visible_to(user),
        )
        .only("json_text", "patient_id")
        .first()
    )
    if row is None or row.patient_id is None:
        raise FhirProblem(404, [Issue("not-found", f"{resource_type}/{resource_id} is not known")])
    with transaction.atomic():
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget(resource_type, resource_id, row.patient_id)],
        )
    return row.json_text


def flag_search(user: Any, params: dict[str, str]) -> list[tuple[str, str]]:
    """(id, JSON text) of the patient's safety flags as FHIR Flags, newest first."""
    patient = _patient(user, params)
    rows = SafetyFlag.objects.filter(patient=patient)
    status = params.get("status")
    if status is not None:
        if status not in ("active", "inactive"):
            raise FhirProblem(400, [Issue("value", "status is active or inactive", "status")])
        rows = (
            rows.filter(status=FlagStatus.ACTIVE)
            if status == "active"
            else rows.exclude(status=FlagStatus.ACTIVE)
        )
    flags = list(rows.order_by("-opened_at", "-pk")[:SEARCH_LIMIT])
    _audit(user, patient, "SafetyFlag", [str(flag.pk) for flag in flags])
    base = builtin.canonical_base()
    return [
        (str(flag.pk), json.dumps(flag_json(flag, base), separators=(",", ":"))) for flag in flags
    ]
