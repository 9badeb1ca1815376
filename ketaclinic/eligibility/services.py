"""Writes for eligibility: rule-set versions, evaluations (with their proposals), decisions.

The rules are evaluated by the pure engine (``ketaclinic.eligibility.rules``); these services
only load the active rule set, store what the engine said, and sign clinicians' decisions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import UUIDField
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.eligibility.baseline_scores import baseline_scores_problems
from ketaclinic.eligibility.diagnoses import record_fields
from ketaclinic.eligibility.models import (
    Allergy,
    DecisionChoice,
    Diagnosis,
    EligibilityDecision,
    Evaluation,
    ProposalOutcome,
    RecordSource,
    RuleSetVersion,
)
from ketaclinic.eligibility.rules import (
    EvaluationDataError,
    RuleDataError,
    RuleSet,
    default_minimum_doses,
    eligibility_propose,
    evaluation_from_dict,
    proposal_to_dict,
    ruleset_from_json,
)
from ketaclinic.eligibility.rules.fields import Value, rule_field_parse, rule_fields, rules_with
from ketaclinic.intake.services import inquiries_follow_eligibility
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.lib.hashchain import canonical_json, digest
from ketaclinic.lib.text import text_problem
from ketaclinic.patients.models import Patient

MAX_EVALUATION_CHARS: Final = 100_000
"""An evaluation's canonical JSON may not be longer than this (a few pages of notes)."""

MAX_RULES_CHARS: Final = 200_000

# "prior_treatments[0].weeks: must be ..." -> ("prior_treatments[0].weeks", "must be ...")
_PROBLEM = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\])*(?:\.\w+(?:\[\d+\])*)*): (.+)$", re.DOTALL)


class DecisionRefused(Exception):
    """Well formed, but the clinic's rules refuse it (HTTP 409)."""


@dataclass(frozen=True)
class ActiveRules:
    row: RuleSetVersion
    ruleset: RuleSet


def problems_by_path(problems: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """The engine's "path: message" problems grouped by path ("body" when it names none)."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        match = _PROBLEM.match(problem)
        path, message = (match.group(1), match.group(2)) if match else ("body", problem)
        grouped.setdefault(path, []).append(message)
    return grouped


# -- rule sets ---------------------------------------------------------------------------------


def ruleset_active() -> ActiveRules:
    """The rule set in use now (the shipped default is loaded by a data migration)."""
    row = RuleSetVersion.objects.filter(active=True).first()
    if row is None:
        raise RuleSetVersion.DoesNotExist("no active eligibility rule set")
    return ActiveRules(row=row, ruleset=ruleset_from_json(row.rules_json))


def ruleset_json_pretty(row: RuleSetVersion) -> str:
    return json.dumps(row.rules_json, indent=2, ensure_ascii=False)


def _rules_parsed(rules_text: str) -> tuple[Any, RuleSet]:
    if len(rules_text) > MAX_RULES_CHARS:
        raise ValidationError({"rules_json": [f"longer than {MAX_RULES_CHARS} characters"]})
    if "\x00" in rules_text:
        raise ValidationError({"rules_json": ["must not contain NUL characters"]})
    try:
        data = json.loads(rules_text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            {"rules_json": [f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"]}
        ) from None
    try:
        ruleset = ruleset_from_json(data)
    except RuleDataError as exc:
        raise ValidationError({"rules_json": list(exc.problems)}) from None
    return data, ruleset


@transaction.atomic
def ruleset_version_create(*, acting_user: Any, rules_text: str, note: str = "") -> RuleSetVersion:
    """Store an edited rule set as a new version and make it the active one.

    Every problem of the JSON is reported at once (``ValidationError`` on ``rules_json``).
    Evaluations made before keep the version they used, with their reasons' texts.
    """
    require(acting_user, "rules.edit")
    data, ruleset = _rules_parsed(rules_text)
    if RuleSetVersion.objects.filter(version=ruleset.version).exists():
        raise ValidationError(
            {
                "rules_json": [
                    f"version: {ruleset.version!r} is already used; give the edited rules a "
                    "new version"
                ]
            }
        )
    RuleSetVersion.objects.select_for_update().filter(active=True).update(active=False)
    row = RuleSetVersion(
        version=ruleset.version,
        rules_json=data,
        note=note.strip(),
        active=True,
        created_by=acting_user,
    )
    row.full_clean()
    row.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="RuleSetVersion",
        object_id=row.pk,
        patient_id=None,
    )
    return row


def ruleset_version_edit(
    *,
    acting_user: Any,
    base: RuleSetVersion,
    values: Mapping[str, str],
    version: str,
    note: str = "",
) -> RuleSetVersion:
    """Save the rule set edited as a form (``values``: each field's path to the submitted text)
    as a new version, made the active one. Every problem is reported at once as a
    ``ValidationError`` keyed by the field's path (``version``, ``note``, ``rules`` for the
    engine's own checks); nothing is saved then. ``base`` itself never changes."""
    require(acting_user, "rules.edit")
    errors: dict[str, list[str]] = {}
    changes: dict[str, Value] = {}
    for field in rule_fields(base.rules_json):
        text = values.get(field.path)
        if text is None:
            continue
        try:
            value = rule_field_parse(field, text[:4000])
        except ValueError as exc:
            errors[field.path] = [str(exc)]
            continue
        if value != field.value:
            changes[field.path] = value
    version = version.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,39}", version):
        errors["version"] = ["letters, digits, dots or dashes, up to 40 characters"]
    elif RuleSetVersion.objects.filter(version=version).exists():
        errors["version"] = [f"{version} is already used: give a new version"]
    note = unicodedata.normalize("NFC", note.strip())[:500]
    problem = text_problem(note) if note else None
    if problem:
        errors["note"] = [problem]
    if not errors and not changes:
        errors["rules"] = ["Nothing was changed."]
    if errors:
        raise ValidationError(errors)
    data = rules_with(base.rules_json, changes, version)
    try:
        return ruleset_version_create(
            acting_user=acting_user,
            rules_text=json.dumps(data, ensure_ascii=False),
            note=note or f"Edited from {base.version} in the form",
        )
    except ValidationError as exc:
        raise ValidationError(
            {"rules": [m for ms in exc.message_dict.values() for m in ms]}
        ) from None


# -- evaluations -------------------------------------------------------------------------------


def _string_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    # Clinical free text (notes, history, names of treatments): ketaclinic/lib/text.py.
    return text_problem(unicodedata.normalize("NFC", value), "free")


def _nul_paths(value: object, path: str, found: dict[str, list[str]]) -> None:
    """Every string (keys too) with NUL, a control, invisible-format or direction-override
    character, by path."""
    if isinstance(value, str):
        problem = _string_problem(value)
        if problem is not None:
            found.setdefault(path or "body", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _string_problem(str(key))
            if problem is not None:
                found.setdefault(path or "body", []).append(f"a key {problem}")
                continue
            _nul_paths(item, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _nul_paths(item, f"{path}[{index}]", found)


def _nfc(value: Any) -> Any:
    """``value`` with every string (keys too) in NFC, as the evaluation is stored."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(key): _nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    return value


def _check_unread_fields(data: Mapping[str, Any], found: dict[str, list[str]]) -> None:
    """The fields the rules do not read are still checked for their shape."""
    scores = baseline_scores_problems(data.get("baseline_scores", {}))
    for path, messages in scores.items():
        found.setdefault(path, []).extend(messages)
    history = data.get("medical_history", "")
    if not isinstance(history, str):
        found.setdefault("medical_history", []).append("must be a string")
    allergies = data.get("allergies", [])
    if not isinstance(allergies, list):
        found.setdefault("allergies", []).append("must be a list of strings")
    else:
        for index, allergy in enumerate(allergies):
            if not isinstance(allergy, str) or not allergy.strip():
                found.setdefault(f"allergies[{index}]", []).append("must be a non-empty string")


def evaluation_input_check(data: Mapping[str, Any]) -> None:
    """Raise ``ValidationError`` keyed by field path unless the engine and we accept ``data``."""
    found: dict[str, list[str]] = {}
    _nul_paths(dict(data), "", found)
    if len(canonical_json(dict(data))) > MAX_EVALUATION_CHARS:
        found.setdefault("body", []).append(
            f"the evaluation is longer than {MAX_EVALUATION_CHARS} characters"
        )
    if found:
        raise ValidationError(found)
    try:
        evaluation_from_dict(data)
    except EvaluationDataError as exc:
        found = problems_by_path(exc.problems)
    _check_unread_fields(data, found)
    if found:
        raise ValidationError(found)


@transaction.atomic
def evaluation_create(*, acting_user: Any, patient: Patient, data: Mapping[str, Any]) -> Evaluation:
    """Store a clinician's evaluation with the proposal of the active rule set."""
    require(acting_user, "evaluation.create")
    evaluation_input_check(data)
    data = _nfc(dict(data))
    rules = ruleset_active()
    proposal = eligibility_propose(
        evaluation_from_dict(data), rules.ruleset, default_minimum_doses()
    )
    row = Evaluation(
        patient=patient,
        input_json=dict(data),
        proposal_json=proposal_to_dict(proposal),
        outcome=ProposalOutcome(str(proposal.outcome)),
        ruleset=rules.row,
        created_by=acting_user,
    )
    row.full_clean()
    row.save(force_insert=True)
    evaluation_records_write(row)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Evaluation",
        object_id=row.pk,
        patient_id=patient.pk,
    )
    inquiries_follow_eligibility(acting_user=acting_user, patient_id=patient.pk, step="evaluated")
    return row


def evaluation_records_write(evaluation: Evaluation) -> None:
    """A row per diagnosis and allergy of the evaluation (``diagnoses.py``), in the
    evaluation's transaction; never changed afterwards (served as FHIR Condition and
    AllergyIntolerance)."""
    fields = record_fields(evaluation.input_json)
    common = {
        "patient_id": evaluation.patient_id,
        "evaluation": evaluation,
        "source": RecordSource.EVALUATION,
        "recorded_at": evaluation.created_at,
        "recorded_by_id": evaluation.created_by_id,
    }
    Diagnosis.objects.bulk_create([Diagnosis(**common, **f) for f in fields.diagnoses])
    Allergy.objects.bulk_create([Allergy(**common, **f) for f in fields.allergies])


def diagnoses_import(*, acting_user: Any, rows: Sequence[Diagnosis]) -> list[Diagnosis]:
    """Diagnoses from another system (the Conditions of a FHIR transaction Bundle), each already
    checked by the caller (``full_clean``): inserted in one statement and each audited, inside
    the caller's transaction. Never changed afterwards, like an evaluation's."""
    require(acting_user, "patient.create")
    for row in rows:
        row.source = RecordSource.IMPORT
        row.evaluation = None
    created = Diagnosis.objects.bulk_create(list(rows), batch_size=500)
    if created:
        audit_record_many(
            actor=acting_user,
            action=Action.CREATE,
            targets=[AuditTarget("Condition", str(r.pk), r.patient_id) for r in created],
        )
    return created


def allergies_import(*, acting_user: Any, rows: Sequence[Allergy]) -> list[Allergy]:
    """Allergies from another system (the AllergyIntolerances of a FHIR transaction Bundle),
    each already checked by the caller (``full_clean``): inserted in one statement and each
    audited, inside the caller's transaction; never changed afterwards, like a diagnosis."""
    require(acting_user, "patient.create")
    for row in rows:
        row.source = RecordSource.IMPORT
        row.evaluation = None
    created = Allergy.objects.bulk_create(list(rows), batch_size=500)
    if created:
        audit_record_many(
            actor=acting_user,
            action=Action.CREATE,
            targets=[AuditTarget("AllergyIntolerance", str(r.pk), r.patient_id) for r in created],
        )
    return created


# -- decisions ---------------------------------------------------------------------------------

# The decision that agrees with each proposal; a "needs review" proposal agrees with none, so
# deciding on it always takes a rationale.
AGREEING_DECISION: Final = {
    ProposalOutcome.ELIGIBLE: DecisionChoice.ELIGIBLE,
    ProposalOutcome.NOT_ELIGIBLE: DecisionChoice.NOT_ELIGIBLE,
}


def decision_against_proposal(outcome: str, decision: str) -> bool:
    return AGREEING_DECISION.get(ProposalOutcome(outcome)) != DecisionChoice(decision)


def _timestamp(value: Any) -> str:
    return str(value.astimezone(UTC).isoformat())


def decision_snapshot(decision: EligibilityDecision) -> dict[str, Any]:
    """What a decision signs: the patient, the evaluation, the proposal and the decision."""
    evaluation = decision.evaluation
    patient = evaluation.patient
    user = decision.decided_by
    return {
        "kind": "eligibility_decision",
        "patient": {
            "id": str(patient.pk),
            "mrn": patient.mrn,
            "name": patient.display_name,
            "birth_date": patient.birth_date.isoformat(),
        },
        "evaluation": {
            "id": evaluation.pk,
            "created_at": _timestamp(evaluation.created_at),
            "created_by": evaluation.created_by.get_username(),
            "input": evaluation.input_json,
        },
        "proposal": evaluation.proposal_json,
        "rules_version": evaluation.ruleset.version,
        "decision": decision.decision,
        "against_proposal": decision_against_proposal(evaluation.outcome, decision.decision),
        "rationale": decision.rationale,
        "decided_by": {"id": user.pk, "username": user.get_username(), "role": user.role},
        "decided_at": _timestamp(decision.decided_at),
    }


@transaction.atomic
def decision_record(
    *, acting_user: Any, evaluation: Evaluation, decision: str, rationale: str = ""
) -> EligibilityDecision:
    """A clinician decides on the patient's latest evaluation; signed, audited, never changed.

    Deciding against the proposal (any decision on a "needs review" proposal included) needs
    a rationale.
    """
    require(acting_user, "eligibility.decide")
    if decision not in DecisionChoice.values:
        raise ValidationError({"decision": [f"one of {', '.join(DecisionChoice.values)}"]})
    rationale = rationale.strip()
    if decision_against_proposal(evaluation.outcome, decision) and not rationale:
        raise ValidationError(
            {
                "rationale": [
                    f"the proposal is {evaluation.outcome}: deciding {decision} needs a rationale"
                ]
            }
        )
    # Lock the patient so that two decisions at once are ordered.
    Patient.objects.select_for_update().filter(pk=evaluation.patient_id).first()
    latest = (
        Evaluation.objects.filter(patient_id=evaluation.patient_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest != evaluation.pk:
        raise DecisionRefused("a newer evaluation of this patient exists; decide on that one")
    row = EligibilityDecision(
        evaluation=evaluation,
        patient_id=evaluation.patient_id,
        decision=DecisionChoice(decision),
        rationale=rationale,
        decided_by=acting_user,
        decided_at=timezone.now(),
    )
    row.snapshot = decision_snapshot(row)
    row.digest = digest(row.snapshot)
    row.full_clean()
    row.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="EligibilityDecision",
        object_id=row.pk,
        patient_id=evaluation.patient_id,
    )
    inquiries_follow_eligibility(
        acting_user=acting_user, patient_id=evaluation.patient_id, step=decision
    )
    return row


def decision_verify(decision: EligibilityDecision) -> bool:
    """Whether the stored snapshot still has its digest, and still says what the row says."""
    snapshot = decision.snapshot
    return (
        digest(snapshot) == decision.digest
        and snapshot.get("decision") == decision.decision
        and snapshot.get("rationale") == decision.rationale
        and snapshot.get("evaluation", {}).get("id") == decision.evaluation_id
    )


# Compiled once per process (lib/compiled_read.py): every patient banner reads it.
_DECISION_LATEST = CompiledRead(
    lambda: (
        EligibilityDecision.objects.filter(patient_id=Slot("patient", UUIDField()))
        .select_related("decided_by")
        .order_by("-decided_at", "-id")[:1]
    )
)


def decision_latest(patient: Patient | Any) -> EligibilityDecision | None:
    """The patient's latest decision (one query), or None."""
    found: list[EligibilityDecision] = _DECISION_LATEST.objects(patient=patient.pk)
    return found[0] if found else None
