"""Checking a transaction Bundle before anything is written: its envelope, each entry's
request and resource (validated with fhir.resources R4B), what we import of each type
(``mapping.py``), and the patient each entry's reference names. Every problem becomes an
issue naming the entry by index and path; nothing here writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from ketaclinic.fhir.importing.allergy import allergy_fields, allergy_match, criteria_parse
from ketaclinic.fhir.importing.mapping import (
    condition_fields,
    observation_score,
    patient_fields,
)
from ketaclinic.fhir.outcome import FhirProblem, Issue, issues_from_validation_error
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.scales.instruments import Instrument

MAX_ENTRIES = 2000
MODELS: dict[str, Any] = {
    "Patient": FhirPatient,
    "Condition": Condition,
    "Observation": Observation,
    "QuestionnaireResponse": QuestionnaireResponse,
    "AllergyIntolerance": AllergyIntolerance,
}
# Where each type names its patient.
SUBJECT = {
    "Condition": "subject",
    "Observation": "subject",
    "QuestionnaireResponse": "subject",
    "AllergyIntolerance": "patient",
}
# Types whose entries may be conditional creates (request.ifNoneExist).
CONDITIONAL = ("Patient", "AllergyIntolerance")


def mrn_system() -> str:
    """Our MRN identifier system (``resources/patient.py`` serves it)."""
    return f"{canonical_base()}/sid/mrn"


@dataclass
class Entry:
    index: int
    resource_type: str
    resource: dict[str, Any]  # as sent (parsed JSON), validated
    full_url: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # Patient / Condition: our fields
    patient_entry: int | None = None  # the Patient entry of this bundle it belongs to
    patient: Patient | None = None  # or a patient we already have
    existing: Patient | None = None  # a Patient entry's conditional create that matched
    instrument: Instrument | None = None  # Observation: the instrument and total
    total: int | None = None
    derived_from_entry: int | None = None  # Observation: the bundle's QR it scores
    criteria: dict[str, list[str]] | None = None  # AllergyIntolerance: its ifNoneExist
    matched: Any = None  # AllergyIntolerance: the recorded allergy its condition found

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}]"


def _at(entry_path: str, issue: Issue, resource_type: str) -> Issue:
    """An issue of a resource (``Condition.code``) as an issue of the entry."""
    expression = issue.expression or resource_type
    if expression.startswith(resource_type):
        expression = f"{entry_path}.resource{expression[len(resource_type) :]}"
    else:
        expression = f"{entry_path}.resource.{expression}"
    return Issue(
        issue.code, f"entry {entry_path[13:-1]}: {issue.diagnostics}", expression, issue.severity
    )


@dataclass
class Checked:
    entries: list[Entry]
    issues: list[Issue]


def _envelope(body: Any) -> list[Any]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        found = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        raise FhirProblem(400, [Issue("structure", f"expected a Bundle, got {found!r}", "Bundle")])
    if body.get("type") != "transaction":
        raise FhirProblem(
            400,
            [
                Issue(
                    "not-supported",
                    "only a Bundle of type transaction is processed here, "
                    f"not {body.get('type')!r}",
                    "Bundle.type",
                )
            ],
        )
    entries = body.get("entry")
    if not isinstance(entries, list) or not entries:
        raise FhirProblem(400, [Issue("required", "the Bundle has no entries", "Bundle.entry")])
    if len(entries) > MAX_ENTRIES:
        raise FhirProblem(
            413, [Issue("too-costly", f"at most {MAX_ENTRIES} entries per Bundle", "Bundle.entry")]
        )
    return entries


def _entry(index: int, raw: Any, issues: list[Issue]) -> Entry | None:
    path = f"Bundle.entry[{index}]"
    label = f"entry {index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("resource"), dict):
        issues.append(Issue("required", f"{label}: a resource is required", f"{path}.resource"))
        return None
    resource: dict[str, Any] = raw["resource"]
    resource_type = str(resource.get("resourceType"))
    given = raw.get("request")
    request: dict[str, Any] = given if isinstance(given, dict) else {}
    method, url = request.get("method"), str(request.get("url") or "")
    problems = []
    if resource_type not in MODELS:
        problems.append(
            Issue(
                "not-supported",
                f"{label}: {resource_type} entries are not imported (Patient, Condition, "
                "AllergyIntolerance, Observation and QuestionnaireResponse are)",
                f"{path}.resource.resourceType",
            )
        )
    if method != "POST":
        problems.append(
            Issue(
                "not-supported",
                f"{label}: only POST (create) entries are imported, not {method!r}",
                f"{path}.request.method",
            )
        )
    elif url.split("?", 1)[0] != resource_type:
        problems.append(
            Issue("value", f"{label}: request.url must be {resource_type!r}", f"{path}.request.url")
        )
    if request.get("ifNoneExist") and resource_type not in CONDITIONAL:
        problems.append(
            Issue(
                "not-supported",
                f"{label}: conditional create is supported for Patients and "
                "AllergyIntolerances only",
                f"{path}.request.ifNoneExist",
            )
        )
    if problems:
        issues.extend(problems)
        return None
    try:
        MODELS[resource_type].model_validate(resource)
    except ValidationError as exc:
        issues.extend(
            _at(path, i, resource_type) for i in issues_from_validation_error(exc, resource_type)
        )
        return None
    full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None
    entry = Entry(index, resource_type, resource, full_url)
    if_none_exist = request.get("ifNoneExist")
    if if_none_exist and resource_type == "Patient":
        entry.existing = _conditional(str(if_none_exist), f"{path}.request.ifNoneExist", issues)
    elif if_none_exist:
        entry.criteria = criteria_parse(str(if_none_exist), f"{path}.request.ifNoneExist", issues)
    return entry


def _patient_by_mrn(
    criteria: str, where: str, issues: list[Issue], user: Any = None
) -> Patient | None:
    name, _, value = criteria.partition("=")
    system, _, mrn = value.partition("|")
    if name != "identifier" or system != mrn_system() or not mrn or "&" in value:
        issues.append(
            Issue(
                "not-supported",
                f"only identifier={mrn_system()}|<MRN> is supported as a condition",
                where,
            )
        )
        return None
    return Patient.objects.filter(mrn=mrn).first()


def _conditional(criteria: str, where: str, issues: list[Issue]) -> Patient | None:
    return _patient_by_mrn(criteria, where, issues)


class _Resolver:
    """The patient a reference names: an entry of this Bundle or a patient we have."""

    def __init__(self, user: Any, entries: list[Entry]) -> None:
        self.user = user
        self.patients = [e for e in entries if e.resource_type == "Patient"]
        self.by_full_url = {e.full_url: e for e in entries if e.full_url}

    def resolve(self, entry: Entry, reference: Any, where: str, issues: list[Issue]) -> None:
        label = f"entry {entry.index}"
        if not isinstance(reference, str) or not reference:
            issues.append(
                Issue("required", f"{label}: a reference to the patient is required", where)
            )
            return
        target = self.by_full_url.get(reference)
        if target is None and reference.startswith("Patient/"):
            wanted = reference.removeprefix("Patient/")
            target = next(
                (
                    p
                    for p in self.patients
                    if (p.full_url or "").endswith(f"/Patient/{wanted}")
                    or p.resource.get("id") == wanted
                ),
                None,
            )
        if target is not None:
            if target.resource_type != "Patient":
                issues.append(
                    Issue(
                        "value",
                        f"{label}: {reference} is a {target.resource_type}, not a Patient",
                        where,
                    )
                )
            elif target.existing is not None:
                entry.patient = target.existing
            else:
                entry.patient_entry = target.index
            return
        if reference.startswith("urn:"):
            issues.append(
                Issue("not-found", f"{label}: {reference} names no entry of this Bundle", where)
            )
            return
        if reference.startswith("Patient?"):
            found = _patient_by_mrn(reference.removeprefix("Patient?"), where, issues)
            if found is None and not any(i.expression == where for i in issues):
                issues.append(Issue("not-found", f"{label}: no patient matches {reference}", where))
            entry.patient = found
            if found is not None:
                self._visible(entry, found, reference, where, issues)
            return
        patient_id = reference.rstrip("/").rsplit("/", 2)
        if len(patient_id) >= 2 and patient_id[-2] == "Patient":
            try:
                entry.patient = patient_get_for_user(self.user, patient_id[-1], audit=False)
            except (Patient.DoesNotExist, ValueError):
                issues.append(
                    Issue("not-found", f"{label}: {reference} is not a patient known to you", where)
                )
            return
        issues.append(
            Issue("value", f"{label}: expected a reference to a Patient, got {reference!r}", where)
        )

    def _visible(
        self, entry: Entry, found: Patient, reference: str, where: str, issues: list[Issue]
    ) -> None:
        try:
            patient_get_for_user(self.user, str(found.pk), audit=False)
        except Patient.DoesNotExist:
            entry.patient = None
            issues.append(
                Issue("not-found", f"{entry.path}: no patient matches {reference}", where)
            )


def _derived_from(entry: Entry, resolver: _Resolver) -> int | None:
    for reference in entry.resource.get("derivedFrom") or []:
        target = resolver.by_full_url.get(str((reference or {}).get("reference")))
        if target is not None and target.resource_type == "QuestionnaireResponse":
            return target.index
    return None


def _allergy_condition(entry: Entry, resolver: _Resolver, issues: list[Issue]) -> None:
    """An allergy's ifNoneExist: its ``patient`` must name the entry's own patient; a match
    among that patient's recorded allergies makes the entry a "200 OK" pointing at it."""
    if entry.criteria is None:
        return
    where = f"{entry.path}.request.ifNoneExist"
    named = entry.criteria["patient"][-1]
    own = str((entry.resource.get("patient") or {}).get("reference") or "")
    same = named == own or (
        entry.patient is not None and named.rsplit("/", 1)[-1] == str(entry.patient.pk)
    )
    if not same:
        issues.append(
            Issue(
                "value",
                f"entry {entry.index}: the condition's patient must be the entry's own ({own})",
                where,
            )
        )
        return
    if entry.patient is not None:  # a patient we have (a new one has no allergies yet)
        entry.matched = allergy_match(entry.patient.pk, entry.fields, entry.criteria)


def bundle_check(user: Any, body: Any) -> Checked:
    """Every entry checked; ``issues`` names every problem of every entry."""
    issues: list[Issue] = []
    entries = [
        e for i, raw in enumerate(_envelope(body)) if (e := _entry(i, raw, issues)) is not None
    ]
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.full_url is None:
            continue
        if entry.full_url in seen:
            issues.append(
                Issue(
                    "duplicate",
                    f"entry {entry.index}: fullUrl {entry.full_url} is also "
                    f"entry {seen[entry.full_url]}'s",
                    f"{entry.path}.fullUrl",
                )
            )
        seen.setdefault(entry.full_url, entry.index)
    resolver = _Resolver(user, entries)
    for entry in entries:
        found: list[Issue] = []
        if entry.resource_type == "Patient":
            entry.fields, found = patient_fields(entry.resource)
        else:
            key = SUBJECT[entry.resource_type]
            subject = entry.resource.get(key) or {}
            resolver.resolve(
                entry, subject.get("reference"), f"{entry.path}.resource.{key}.reference", issues
            )
        if entry.resource_type == "Condition":
            entry.fields, found = condition_fields(entry.resource)
        elif entry.resource_type == "AllergyIntolerance":
            entry.fields, found = allergy_fields(entry.resource)
            _allergy_condition(entry, resolver, issues)
        elif entry.resource_type == "Observation":
            entry.instrument, entry.total, found = observation_score(entry.resource)
            entry.derived_from_entry = _derived_from(entry, resolver)
        issues.extend(_at(entry.path, i, entry.resource_type) for i in found)
    return Checked(entries, issues)


def canonical(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy of the resource (the entries' resources are never changed in place)."""
    copied: dict[str, Any] = json.loads(json.dumps(resource))
    return copied
