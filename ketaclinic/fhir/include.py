"""``_include`` and ``_revinclude`` (FHIR R4 search, 3.1.1.5.4) for the common pairs.

``_include=Observation:patient`` adds, to each page, the Patients the page's Observations
reference; ``_revinclude=Provenance:target`` adds the Provenance resources that target the
page's entries. Included resources are read through the same search layer as any search of
their type (``engine.search`` with the user: a resource the user may not read is never
included) and each one shown is an audited read, like a match. They go into the Bundle with
``search.mode`` = ``include`` and do not count in ``total``. What is supported is listed here
and in the CapabilityStatement (``searchInclude`` / ``searchRevInclude``); anything else is
ignored and named in the Bundle's OperationOutcome, or refused under ``Prefer:
handling=strict``. ``:iterate`` and ``*`` are not supported. One ``_include`` or
``_revinclude`` adds at most ``INCLUDE_LIMIT`` resources to a page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.search import engine
from ketaclinic.fhir.search.engine import Built
from ketaclinic.fhir.search.params import Handling, Parsed, ResultParams

# The most resources one include adds to a page (a page holds at most 200 matches).
INCLUDE_LIMIT = 1000


@dataclass(frozen=True)
class Pair:
    """``<source>:<param>``: the ``source`` type's ``param`` references a ``target`` type at
    ``element`` of the source resource."""

    source: str
    param: str
    target: str
    element: str

    @property
    def name(self) -> str:
        return f"{self.source}:{self.param}"


# (source type, search parameter, referenced type, the element holding the reference).
PAIRS = (
    Pair("Observation", "patient", "Patient", "subject"),
    Pair("Observation", "encounter", "Encounter", "encounter"),
    Pair("Encounter", "patient", "Patient", "subject"),
    Pair("Encounter", "location", "Location", "location"),
    Pair("MedicationAdministration", "patient", "Patient", "subject"),
    Pair("MedicationAdministration", "context", "Encounter", "context"),
    Pair("Flag", "patient", "Patient", "subject"),
    Pair("QuestionnaireResponse", "patient", "Patient", "subject"),
    Pair("Consent", "patient", "Patient", "patient"),
    Pair("DocumentReference", "patient", "Patient", "subject"),
    Pair("PractitionerRole", "practitioner", "Practitioner", "practitioner"),
    Pair("Provenance", "target", "Encounter", "target"),
    Pair("Provenance", "target", "MedicationAdministration", "target"),
    Pair("Provenance", "target", "Consent", "target"),
    Pair("Provenance", "target", "DocumentReference", "target"),
)


def includes_of(type_name: str) -> list[str]:
    """``_include`` values a search of ``type_name`` takes (CapabilityStatement)."""
    return sorted({p.name for p in PAIRS if p.source == type_name})


def revincludes_of(type_name: str) -> list[str]:
    """``_revinclude`` values a search of ``type_name`` takes (CapabilityStatement)."""
    return sorted({p.name for p in PAIRS if p.target == type_name})


@dataclass
class Included:
    entries: list[tuple[str, Built]]  # (resource type, resource)
    applied: list[tuple[str, str]]  # ("_include" | "_revinclude", value) for link[self]


def _references(text: str, element: str) -> list[str]:
    """The ``Type/id`` references at ``element`` (a Reference, a list of them, or a list of
    objects holding one under ``location``, as Encounter.location does)."""
    value = json.loads(text).get(element)
    found: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and isinstance(item.get("location"), dict):
            item = item["location"]
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            found.append(item["reference"])
    return found


def _fetch(user: Any, type_name: str, param: str, values: list[str]) -> list[Built]:
    kind = TYPES[type_name]
    parsed = Parsed(
        filters={param: [",".join(values)]}, result=ResultParams(INCLUDE_LIMIT, None, False)
    )
    return engine.search(kind, user, parsed, None).entries


@dataclass(frozen=True)
class Requested:
    forward: tuple[Pair, ...] = ()
    reverse: tuple[Pair, ...] = ()

    @property
    def applied(self) -> list[tuple[str, str]]:
        """The values taken, for ``link[self]`` (each once)."""
        return [("_include", p.name) for p in dict.fromkeys(self.forward)] + [
            ("_revinclude", p.name) for p in dict.fromkeys(self.reverse)
        ]


def requested(
    type_name: str, values: dict[str, list[str]], handling: Handling, parsed: Parsed
) -> Requested:
    """The supported ``_include``/``_revinclude`` values of a search of ``type_name``. Others
    are named in ``parsed.ignored`` (lenient) or refused with 400 (strict), before anything
    is read."""
    forward: list[Pair] = []
    reverse: list[Pair] = []
    problems: list[Issue] = []
    for key, bucket, side in (("_include", forward, "source"), ("_revinclude", reverse, "target")):
        for value in values.get(key, []):
            pairs = [p for p in PAIRS if p.name == value and getattr(p, side) == type_name]
            if not pairs:
                problems.append(
                    Issue(
                        "not-supported",
                        f"{key}={value} is not supported on a {type_name} search "
                        "(see the CapabilityStatement) and was ignored",
                        key,
                        severity="warning",
                    )
                )
            bucket.extend(pairs)
    if problems and handling == Handling.STRICT:
        raise FhirProblem(
            400,
            [
                Issue(i.code, i.diagnostics.replace("and was ignored", "(strict)"), i.expression)
                for i in problems
            ],
        )
    parsed.ignored.extend(problems)
    return Requested(tuple(forward), tuple(dict.fromkeys(reverse)))


def included(
    user: Any, type_name: str, entries: Sequence[Built], wanted_pairs: Requested
) -> Included:
    """The resources ``wanted_pairs`` add to a page of ``type_name`` matches, read as the user
    may read them, each an audited read."""
    result = Included([], wanted_pairs.applied)
    if not entries or not (wanted_pairs.forward or wanted_pairs.reverse):
        return result
    shown = {(type_name, e.resource_id) for e in entries}
    wanted: dict[str, set[str]] = {}
    for pair in wanted_pairs.forward:
        for entry in entries:
            for ref in _references(entry.text, pair.element):
                target, _, target_id = ref.rpartition("/")
                if target == pair.target and target_id:
                    wanted.setdefault(target, set()).add(target_id)
    found: list[tuple[str, Built]] = []
    for target, ids in wanted.items():
        found.extend((target, b) for b in _fetch(user, target, "_id", sorted(ids)))
    references = [f"{type_name}/{e.resource_id}" for e in entries]
    for pair in wanted_pairs.reverse:
        found.extend((pair.source, b) for b in _fetch(user, pair.source, pair.param, references))
    for kind, built in found:
        if (kind, built.resource_id) not in shown:
            shown.add((kind, built.resource_id))
            result.entries.append((kind, built))
    audit_shown(user, result.entries)
    return result


def audit_shown(user: Any, entries: Sequence[tuple[str, Built]]) -> None:
    """Each resource of patient data shown is an audited read (as ``selectors._audit``)."""
    targets = [
        AuditTarget(audit_type, built.resource_id, built.patient_id)
        for kind, built in entries
        if (audit_type := TYPES[kind].audit_type) is not None
    ]
    if targets:
        with transaction.atomic():
            audit_record_many(actor=user, action=Action.READ, targets=targets)


# -- the CapabilityStatement's part (capability.py) -----------------------------------------------

EVERYTHING_DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-everything"

BINARY_CAPABILITY: dict[str, Any] = {
    "type": "Binary",
    "interaction": [{"code": "read"}],
    "versioning": "no-version",
    "readHistory": False,
    "documentation": "The content of a DocumentReference (Binary/consent-<n>: the signed "
    "consent's PDF), for whoever may read the DocumentReference; the PDF itself, or a Binary "
    "resource under Accept: application/fhir+json.",
}


def record_capabilities(type_name: str, interactions: list[dict[str, str]]) -> dict[str, Any]:
    """searchInclude/searchRevInclude, vread and history-instance (the current version only:
    ``records.py``), and Patient's $everything, for a type of the registry."""
    interactions += [{"code": "vread"}, {"code": "history-instance"}]
    extra: dict[str, Any] = {"readHistory": False}
    if type_name == "CarePlan":  # every signed version is kept (resources/care_plan.py)
        extra["readHistory"] = True
    if includes_of(type_name):
        extra["searchInclude"] = includes_of(type_name)
    if revincludes_of(type_name):
        extra["searchRevInclude"] = revincludes_of(type_name)
    if type_name == "Patient":
        extra["operation"] = [
            {
                "name": "everything",
                "definition": EVERYTHING_DEFINITION,
                "documentation": "Every resource of the patient's record the caller may read "
                "(not the audit trail); _count with next links, _since, _type.",
            }
        ]
    return extra
