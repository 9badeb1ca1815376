"""Writing a checked transaction Bundle: one database transaction, all or nothing.

Patients first (``patients.services.patient_create``, its checks and audit), then the other
entries in their order: Conditions as diagnosis rows (``eligibility.Diagnosis``, source
import), score Observations as stored Observations of our instrument, QuestionnaireResponses
through the FHIR create path (``fhir.services.questionnaire_response_record``: validated
against the Questionnaire, scored, flags raised). Patients and responses are each written in a
savepoint, so a refusal is collected beside the others' and the rest still checked; Conditions
and Observations are checked row by row, then inserted together with one audit batch. If any
entry was refused, everything is rolled back and one OperationOutcome names them all."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.observation import Observation as FhirObservation

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.eligibility.models import Allergy, Diagnosis, RecordSource
from ketaclinic.eligibility.services import allergies_import, diagnoses_import
from ketaclinic.fhir import services as fhir_services
from ketaclinic.fhir.importing.entries import Entry, bundle_check, canonical
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.observation import CATEGORY_SYSTEM
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.fhir.smart.access import current_grant
from ketaclinic.fhir.smart.rules.scopes import Grant, permits
from ketaclinic.patients.services import patient_create

# Observation elements that point into the other system's record: not kept (we import no
# Encounter, Practitioner or Device), so that nothing we serve names a resource we lack.
_FOREIGN_REFERENCES = (
    "id",
    "meta",
    "text",
    "contained",
    "basedOn",
    "partOf",
    "encounter",
    "performer",
    "hasMember",
    "derivedFrom",
    "specimen",
    "device",
    "focus",
)


# Our fields -> where they came from in the imported resource (for the OperationOutcome).
_FIELD_PATHS = {
    "given_name": "name.given",
    "family_name": "name.family",
    "birth_date": "birthDate",
    "sex_at_birth": "gender",
    "phone": "telecom",
    "email": "telecom",
    "address": "address",
    "icd10": "code",
    "snomed": "code",
    "display": "code.text",
    "recorded_at": "recordedDate",
    "onset": "onsetDateTime",
    "abatement": "abatementDateTime",
    "substance": "code",
    "no_known": "code",
    "effective": "effectiveDateTime",
}


class _Refused(Exception):
    pass


@dataclass
class _Written:
    status: str  # "201 Created" or "200 OK" (a conditional create that matched)
    location: str
    patient_id: Any = None


def _patient_of(entry: Entry, written: dict[int, _Written]) -> Any:
    if entry.patient is not None:
        return entry.patient.pk
    assert entry.patient_entry is not None
    return written[entry.patient_entry].patient_id


def _patient(acting_user: Any, entry: Entry) -> _Written:
    if entry.existing is not None:
        return _Written("200 OK", f"Patient/{entry.existing.pk}", entry.existing.pk)
    patient = patient_create(acting_user=acting_user, **entry.fields)
    return _Written("201 Created", f"Patient/{patient.pk}", patient.pk)


def _condition(entry: Entry, patient_id: Any) -> Diagnosis:
    """The diagnosis row, checked (``ValidationError``) but not saved: the Conditions of a
    Bundle are inserted together (one statement) once every entry has been checked."""
    fields = dict(entry.fields)
    recorded_at = fields.pop("recorded_at") or timezone.now()
    row = Diagnosis(
        patient_id=patient_id,
        source=RecordSource.IMPORT,
        recorded_at=recorded_at,
        recorded_by=None,
        **fields,
    )
    # The one constraint (an ICD-10-CM or SNOMED CT code) is what ``condition_fields`` checks;
    # validating it here would cost a query and a savepoint per row (the database still has it).
    row.full_clean(exclude=["patient"], validate_constraints=False)
    return row


def _allergy(entry: Entry, patient_id: Any) -> Allergy:
    """The allergy row, checked but not saved (inserted with the others, like Conditions)."""
    fields = dict(entry.fields)
    row = Allergy(
        patient_id=patient_id,
        source=RecordSource.IMPORT,
        recorded_at=fields.pop("recorded_at") or timezone.now(),
        recorded_by=None,
        **fields,
    )
    row.full_clean(exclude=["patient"], validate_constraints=False)
    return row


def _observation(entry: Entry, patient_id: Any) -> StoredResource:
    """The stored score Observation, checked but not saved (inserted with the others)."""
    assert entry.instrument is not None
    resource = {k: v for k, v in canonical(entry.resource).items() if k not in _FOREIGN_REFERENCES}
    resource_id = str(uuid.uuid4())
    resource["id"] = resource_id
    resource["subject"] = {"reference": f"Patient/{patient_id}"}
    categories = resource.setdefault("category", [])
    if not any(
        c.get("system") == CATEGORY_SYSTEM and c.get("code") == "survey"
        for category in categories
        for c in category.get("coding") or []
    ):
        categories.append(
            {"coding": [{"system": CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}]}
        )
    text = FhirObservation.model_validate(resource).model_dump_json()
    stored = StoredResource(
        resource_type="Observation",
        resource_id=resource_id,
        patient_id=patient_id,
        code_system=LOINC,
        code=next(
            c["code"]
            for c in resource["code"]["coding"]
            if c.get("system") == LOINC and c.get("code")
        ),
        effective=json.loads(text)["effectiveDateTime"],
        instrument=entry.instrument.code,
        json_text=text,
    )
    stored.full_clean(exclude=["patient"], validate_unique=False)
    return stored


def _response(
    acting_user: Any, entry: Entry, patient_id: Any, scores: dict[int, tuple[str, int | None]]
) -> _Written:
    body = canonical(entry.resource)
    body["subject"] = {"reference": f"Patient/{patient_id}"}
    recorded = fhir_services.questionnaire_response_record(acting_user=acting_user, body=body)
    observation = json.loads(recorded.observation.json_text)
    total = (observation.get("valueQuantity") or {}).get("value", observation.get("valueInteger"))
    scores[entry.index] = (
        f"Observation/{recorded.observation.resource_id}",
        int(total) if isinstance(total, int | float) else None,
    )
    return _Written("201 Created", f"QuestionnaireResponse/{recorded.response.resource_id}")


def _score_of_response(entry: Entry, scores: dict[int, tuple[str, int | None]]) -> _Written:
    """A score Observation derived from a response of this Bundle: the response's own score
    Observation (made when it was scored) stands for it, if the totals agree."""
    assert entry.derived_from_entry is not None
    location, total = scores[entry.derived_from_entry]
    if total != entry.total:
        raise FhirProblem(
            422,
            [
                Issue(
                    "business-rule",
                    f"the total {entry.total} disagrees with the score of entry "
                    f"{entry.derived_from_entry}'s answers ({total})",
                    "Observation.value",
                )
            ],
        )
    return _Written("200 OK", location)


def _issues_of(entry: Entry, exc: Exception) -> list[Issue]:
    where = f"{entry.path}.resource"
    label = f"entry {entry.index}"
    if isinstance(exc, FhirProblem):
        found = []
        for issue in exc.issues:
            expression = issue.expression or ""
            if expression.startswith(entry.resource_type):
                expression = expression[len(entry.resource_type) :].lstrip(".")
            path = f"{where}.{expression}" if expression else where
            found.append(Issue(issue.code, f"{label}: {issue.diagnostics}", path, issue.severity))
        return found
    if isinstance(exc, ValidationError):
        return [
            Issue("invariant", f"{label}: {message}", f"{where}.{_FIELD_PATHS.get(name, name)}")
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [Issue("forbidden", f"{label}: you may not create this {entry.resource_type}", where)]


def _write(acting_user: Any, entries: list[Entry]) -> tuple[dict[int, _Written], list[Issue]]:
    written: dict[int, _Written] = {}
    scores: dict[int, tuple[str, int | None]] = {}
    issues: list[Issue] = []
    conditions: list[tuple[Entry, Diagnosis]] = []
    allergies: list[tuple[Entry, Allergy]] = []
    observations: list[tuple[Entry, StoredResource]] = []
    ordered = [e for e in entries if e.resource_type == "Patient"]
    ordered += [e for e in entries if e.resource_type == "QuestionnaireResponse"]
    ordered += [
        e for e in entries if e.resource_type in ("Condition", "AllergyIntolerance", "Observation")
    ]
    for entry in ordered:
        if entry.resource_type != "Patient":
            needed = entry.patient_entry
            if needed is not None and needed not in written:
                continue  # its Patient entry was refused: named there
        try:
            if entry.resource_type == "Patient":
                with transaction.atomic():
                    written[entry.index] = _patient(acting_user, entry)
                continue
            patient_id = _patient_of(entry, written)
            if entry.resource_type == "Condition":
                conditions.append((entry, _condition(entry, patient_id)))
            elif entry.resource_type == "AllergyIntolerance" and entry.matched is not None:
                written[entry.index] = _Written(
                    "200 OK", f"AllergyIntolerance/{entry.matched.pk}"
                )  # its conditional create found the allergy recorded already
            elif entry.resource_type == "AllergyIntolerance":
                allergies.append((entry, _allergy(entry, patient_id)))
            elif entry.resource_type == "QuestionnaireResponse":
                with transaction.atomic():
                    written[entry.index] = _response(acting_user, entry, patient_id, scores)
            elif entry.derived_from_entry is not None:
                if entry.derived_from_entry in scores:
                    written[entry.index] = _score_of_response(entry, scores)
            else:
                observations.append((entry, _observation(entry, patient_id)))
        except (FhirProblem, ValidationError, PermissionDenied) as exc:
            issues.extend(_issues_of(entry, exc))
    if not issues:
        _insert(acting_user, conditions, observations, written)
        allergies_import(acting_user=acting_user, rows=[row for _, row in allergies])
        for entry, row in allergies:
            written[entry.index] = _Written("201 Created", f"AllergyIntolerance/{row.pk}")
    return written, issues


def _insert(
    acting_user: Any,
    conditions: list[tuple[Entry, Diagnosis]],
    observations: list[tuple[Entry, StoredResource]],
    written: dict[int, _Written],
) -> None:
    """The checked Conditions and Observations, one insert each and one audit batch."""
    diagnoses_import(acting_user=acting_user, rows=[row for _, row in conditions])
    for entry, row in conditions:
        written[entry.index] = _Written("201 Created", f"Condition/{row.pk}")
    StoredResource.objects.bulk_create([row for _, row in observations], batch_size=500)
    targets = []
    for entry, stored in observations:
        written[entry.index] = _Written("201 Created", f"Observation/{stored.resource_id}")
        targets.append(AuditTarget("Observation", stored.resource_id, stored.patient_id))
    if targets:
        audit_record_many(actor=acting_user, action=Action.CREATE, targets=targets)


def _response_bundle(entries: list[Entry], written: dict[int, _Written]) -> dict[str, Any]:
    now = timezone.now().isoformat()
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "transaction-response",
        "entry": [
            {
                "response": {
                    "status": written[e.index].status,
                    "location": written[e.index].location,
                    "lastModified": now,
                }
            }
            for e in sorted(entries, key=lambda e: e.index)
        ],
    }


def entries_beyond_scopes(grant: Grant, body: Any) -> list[Issue]:
    """A SMART program's transaction: every entry must be a create its scopes allow, on the
    resource as sent (a constrained scope, ``system/Condition.c?category=...``, must hold on
    it). All or nothing: one refused entry refuses the Bundle, each named. Checked before
    anything is read or written; the envelope's own faults are left to ``bundle_check``."""
    entries = body.get("entry") if isinstance(body, dict) else None
    issues: list[Issue] = []
    for index, raw in enumerate(entries if isinstance(entries, list) else []):
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if not isinstance(resource, dict):
            continue
        type_name = str(resource.get("resourceType"))
        if not permits(grant, type_name, "create", resource):
            content = " with this content" if _covers_create(grant, type_name) else ""
            issues.append(
                Issue(
                    "forbidden",
                    f"entry {index}: this access token's scopes do not allow create of "
                    f"{type_name}{content}",
                    f"Bundle.entry[{index}].resource",
                )
            )
    return issues


def _covers_create(grant: Grant, type_name: str) -> bool:
    return any(s.type_name in ("*", type_name) and "c" in s.permissions for s in grant.scopes)


def transaction_import(*, acting_user: Any, body: Any) -> dict[str, Any]:
    """Import a transaction Bundle, all or nothing; the transaction-response Bundle, or
    ``FhirProblem`` (400) naming every refused entry, with nothing stored."""
    try:
        require(acting_user, "patient.create")
    except PermissionDenied:
        raise FhirProblem(
            403,
            [
                Issue(
                    "forbidden",
                    "only staff who may register patients (administrator, clinician, intake) "
                    "import a transaction",
                )
            ],
        ) from None
    grant = current_grant()
    if grant is not None:
        scope_refusals = entries_beyond_scopes(grant, body)
        if scope_refusals:
            raise FhirProblem(403, scope_refusals)
    checked = bundle_check(acting_user, body)
    if checked.issues:
        raise FhirProblem(400, checked.issues)
    try:
        with transaction.atomic():
            written, issues = _write(acting_user, checked.entries)
            if issues:
                raise _Refused
            transaction_id = str(uuid.uuid4())
            patients = sorted({w.patient_id for w in written.values() if w.patient_id})
            audit_record_many(
                actor=acting_user,
                action=Action.EXECUTE,
                targets=[AuditTarget("FhirTransaction", transaction_id, None)]
                + [AuditTarget("FhirTransaction", transaction_id, p) for p in patients],
            )
    except _Refused:
        raise FhirProblem(400, issues) from None
    return _response_bundle(checked.entries, written)
