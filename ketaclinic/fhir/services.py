"""Writes of the FHIR API: importing a Questionnaire, recording a QuestionnaireResponse.

A response is scored by ``scales.services.administration_record`` (score, safety flags and
audit have one source of truth); in the same transaction its canonical JSON and the score's
Observation are stored and audited. Any problem raises ``FhirProblem`` and stores nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError as PydanticValidationError

from ketaclinic.accounts.access import require, user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.fhir import questionnaire as builtin
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.observation import observation_code, observation_json
from ketaclinic.fhir.outcome import FhirProblem, Issue, issues_from_validation_error
from ketaclinic.fhir.questionnaire_response import (
    calculations_check,
    probe_problems,
    response_read,
)
from ketaclinic.fhir.scoring_plan import LOINC, Plan, PlanInvalid, plan_read
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales import instruments
from ketaclinic.scales.models import AdministrationMode
from ketaclinic.scales.services import (
    administration_record,
    incomplete_flag_message,
    incomplete_response_keep,
)

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _expect_type(body: Any, resource_type: str) -> Mapping[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        found = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        raise FhirProblem(
            400, [Issue("structure", f"expected a {resource_type}, got {found!r}", "resourceType")]
        )
    return body


def expression_names_fix(resource: dict[str, Any]) -> dict[str, Any]:
    """Rename FHIRPath variables whose names are not R4 ids (``q1_value`` -> ``q1value``) and
    their ``%name`` references, so the definition validates with R4 (where Expression.name is
    an id) and evaluates the same. Some public SDC forms (LHC-Forms) use underscores."""
    renames: dict[str, str] = {}

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("valueExpression")
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                name = value["name"]
                if not _FHIR_ID.match(name):
                    renames[name] = re.sub(r"[^A-Za-z0-9]", "", name) or name
            for child in node.values():
                collect(child)
        elif isinstance(node, list):
            for child in node:
                collect(child)

    collect(resource)
    if not renames or len(set(renames.values())) != len(renames):
        return resource
    text = json.dumps(resource)
    for old, new in renames.items():
        text = text.replace(f'"name": "{old}"', f'"name": "{new}"')
        text = re.sub(r"%" + re.escape(old) + r"\b", "%" + new, text)
    fixed: dict[str, Any] = json.loads(text)
    return fixed


def _validated(model: Any, body: Mapping[str, Any], resource_type: str) -> Any:
    try:
        return model.model_validate(dict(body))
    except PydanticValidationError as exc:
        raise FhirProblem(400, issues_from_validation_error(exc, resource_type)) from None


def _canonical(model_instance: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(model_instance.model_dump_json())
    return data


# --- Questionnaire --------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedQuestionnaire:
    url: str
    resource: Mapping[str, Any]
    plan: Plan


def questionnaire_import(*, acting_user: Any, body: Any) -> StoredResource:
    """Import a Questionnaire definition and link it to the built-in with its LOINC code."""
    try:
        require(acting_user, "fhir.import")
    except PermissionDenied:
        raise FhirProblem(
            403, [Issue("forbidden", "only an administrator imports Questionnaires")]
        ) from None
    resource = expression_names_fix(dict(_expect_type(body, "Questionnaire")))
    resource_id = str(uuid.uuid4())
    resource["id"] = resource_id
    model = _validated(Questionnaire, resource, "Questionnaire")
    canonical = _canonical(model)
    if not canonical.get("url"):
        canonical["url"] = f"{builtin.canonical_base()}/Questionnaire/{resource_id}"
    url = str(canonical["url"])
    issues: list[Issue] = []
    if (
        builtin.builtin_by_url(url) is not None
        or StoredResource.objects.filter(resource_type="Questionnaire", url=url).exists()
    ):
        issues.append(Issue("duplicate", f"a Questionnaire with url {url} exists", "url"))
    try:
        plan = plan_read(canonical, instruments.load_builtin())
    except PlanInvalid as invalid:
        raise FhirProblem(422, [*issues, *invalid.issues]) from None
    issues.extend(probe_problems(plan, canonical))
    if issues:
        raise FhirProblem(422, issues)
    with transaction.atomic():
        stored = StoredResource(
            resource_type="Questionnaire",
            resource_id=resource_id,
            code_system=LOINC if plan.instrument.loinc_panel else "",
            code=plan.instrument.loinc_panel or "",
            url=url,
            name=str(canonical.get("name") or canonical.get("title") or "")[:200],
            instrument=plan.instrument.code,
            json_text=json.dumps(canonical, separators=(",", ":")),
        )
        stored.full_clean()
        stored.save(force_insert=True)
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="Questionnaire",
            object_id=resource_id,
            patient_id=None,
        )
    return stored


@cache
def _builtin_resolved(code: str, base: str) -> ResolvedQuestionnaire:
    """A built-in Questionnaire and its scoring plan: fixed for a code and canonical base, so
    built once, not on every response (nobody changes the cached resource; it is only read)."""
    instrument = instruments.get(code)
    resource = builtin.builtin_questionnaire(instrument, base)
    plan = plan_read(resource, instruments.load_builtin(), instrument)
    return ResolvedQuestionnaire(builtin.builtin_url(code, base), resource, plan)


def questionnaire_resolve(canonical: str) -> ResolvedQuestionnaire | None:
    """The built-in or imported Questionnaire a canonical URL (``url`` or ``url|version``) names."""
    url = canonical.split("|", 1)[0]
    instrument = builtin.builtin_by_url(url)
    if instrument is not None:
        return _builtin_resolved(instrument.code, builtin.canonical_base())
    row = StoredResource.objects.filter(resource_type="Questionnaire", url=url).first()
    if row is None:
        return None
    resource = json.loads(row.json_text)
    return ResolvedQuestionnaire(url, resource, plan_read(resource, instruments.load_builtin()))


# --- QuestionnaireResponse -------------------------------------------------------------------


def _subject(acting_user: Any, response: Mapping[str, Any]) -> tuple[Patient | None, list[Issue]]:
    reference = (response.get("subject") or {}).get("reference")
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        return None, [
            Issue("required", "subject must be a reference Patient/{id}", "subject.reference")
        ]
    try:
        return patient_get_for_user(
            acting_user, reference.removeprefix("Patient/"), audit=False
        ), []
    except Patient.DoesNotExist:
        return None, [
            Issue(
                "not-found",
                f"subject {reference} is not a patient known to you",
                "subject.reference",
            )
        ]


def _authored(model: QuestionnaireResponse) -> datetime:
    authored = model.authored
    if authored is None:
        return timezone.now()
    if isinstance(authored, datetime) and timezone.is_aware(authored):
        return authored
    raise FhirProblem(
        422, [Issue("value", "authored must be a date and time with a time zone", "authored")]
    )


def _validation_issues(exc: ValidationError, plan: Plan) -> list[Issue]:
    issues = []
    by_target = plan.by_target()
    for field, messages in exc.message_dict.items():
        where = field
        if field.startswith("answers."):
            where = f"item.where(linkId='{by_target.get(field[8:], field[8:])}')"
        elif field == "administered_at":
            where = "authored"
        for message in messages:
            issues.append(Issue("business-rule", message, where))
    return issues


@dataclass(frozen=True)
class RecordedResponse:
    response: StoredResource
    observation: StoredResource


def questionnaire_response_record(*, acting_user: Any, body: Any) -> RecordedResponse:
    """Validate a completed response against its Questionnaire, score and store it."""
    raw = dict(_expect_type(body, "QuestionnaireResponse"))
    model = _validated(QuestionnaireResponse, raw, "QuestionnaireResponse")
    response = _canonical(model)
    issues: list[Issue] = []
    if response.get("status") != "completed":
        issues.append(Issue("value", "status must be completed", "status"))
    patient, subject_issues = _subject(acting_user, response)
    issues.extend(subject_issues)
    canonical = response.get("questionnaire")
    resolved = questionnaire_resolve(canonical) if isinstance(canonical, str) else None
    if resolved is None:
        issues.append(
            Issue(
                "not-found",
                f"questionnaire {canonical!r} is not the canonical URL of a built-in or "
                "imported Questionnaire (see GET Questionnaire)",
                "questionnaire",
            )
        )
        raise FhirProblem(422, issues)
    read = response_read(resolved.plan, response)
    issues.extend(read.issues)
    if read.result is not None:
        issues.extend(calculations_check(resolved.plan, response, resolved.resource, read))
    authored = _authored(model)
    mode = (
        AdministrationMode.PATIENT_SELF
        if user_role(acting_user) == Role.PATIENT
        else AdministrationMode.STAFF_ENTRY
    )
    if patient is not None and read.result is None:
        flagged = _incomplete_flag(acting_user, patient, resolved, read.answers, authored, mode)
        issues.extend(flagged)
    if issues or patient is None or read.result is None:
        raise FhirProblem(422, issues)
    instrument = resolved.plan.instrument
    try:
        with transaction.atomic():
            administration = administration_record(
                acting_user=acting_user,
                patient=patient,
                instrument_code=instrument.code,
                answers=read.answers,
                administered_at=authored,
                mode=mode,
            )
            return _store(acting_user, response, resolved, administration, authored)
    except PermissionDenied:
        raise FhirProblem(
            403, [Issue("forbidden", "you may not record rating scales for this patient")]
        ) from None
    except ValidationError as exc:
        raise FhirProblem(422, _validation_issues(exc, resolved.plan)) from None


def _incomplete_flag(
    acting_user: Any,
    patient: Any,
    resolved: ResolvedQuestionnaire,
    answers: Mapping[str, int],
    authored: datetime,
    mode: AdministrationMode,
) -> list[Issue]:
    """A response refused as incomplete still opens the flags its answers raise (PHQ-9 item 9
    "whatever the total"): kept by ``incomplete_response_keep``; one issue says so."""
    try:
        kept = incomplete_response_keep(
            acting_user=acting_user,
            patient=patient,
            instrument_code=resolved.plan.instrument.code,
            answers=answers,
            administered_at=authored,
            mode=mode,
        )
    except (PermissionDenied, ValidationError):
        return []  # reported by the other issues (subject, authored)
    if kept is None:
        return []
    return [Issue("business-rule", incomplete_flag_message(kept), "item", severity="warning")]


def _store(
    acting_user: Any,
    response: dict[str, Any],
    resolved: ResolvedQuestionnaire,
    administration: Any,
    authored: datetime,
) -> RecordedResponse:
    base = builtin.canonical_base()
    instrument = resolved.plan.instrument
    response_id = str(uuid.uuid4())
    response["id"] = response_id
    response["authored"] = authored.isoformat()
    response["subject"] = {"reference": f"Patient/{administration.patient_id}"}
    response_text = QuestionnaireResponse.model_validate(response).model_dump_json()
    observation_id = str(uuid.uuid4())
    observation = observation_json(
        resource_id=observation_id,
        administration=administration,
        instrument=instrument,
        response_id=response_id,
        base=base,
    )
    observation_text = Observation.model_validate(observation).model_dump_json()
    system, code = observation_code(instrument, base)
    common = {"patient_id": administration.patient_id, "effective": authored}
    stored_response = StoredResource(
        resource_type="QuestionnaireResponse",
        resource_id=response_id,
        code_system="",
        code=instrument.code,
        url=resolved.url,
        instrument=instrument.code,
        json_text=response_text,
        administration=administration,
        **common,
    )
    stored_observation = StoredResource(
        resource_type="Observation",
        resource_id=observation_id,
        code_system=system,
        code=code,
        instrument=instrument.code,
        json_text=observation_text,
        administration=administration,
        **common,
    )
    StoredResource.objects.bulk_create([stored_response, stored_observation])
    audit_record_many(
        actor=acting_user,
        action=Action.CREATE,
        targets=[
            AuditTarget("QuestionnaireResponse", response_id, administration.patient_id),
            AuditTarget("Observation", observation_id, administration.patient_id),
        ],
    )
    return RecordedResponse(stored_response, stored_observation)
