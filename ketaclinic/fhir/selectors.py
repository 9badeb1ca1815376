"""Reads of the FHIR API. Patient data is access-checked (``patients_visible_to``: not found
for a record the user may not see) and every resource read is an audited read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ketaclinic.accounts.access import user_can
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many, page_target
from ketaclinic.fhir import questionnaire as builtin
from ketaclinic.fhir.models import StoredResource
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.resources.organization import organizations
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.fhir.search import engine, fast
from ketaclinic.fhir.search.cursor import Cursor
from ketaclinic.fhir.search.engine import Built, Page, ResourceType
from ketaclinic.fhir.search.params import Parsed, reference
from ketaclinic.fhir.search.visible import patient_visible


def _token(value: str) -> tuple[str | None, str]:
    """``system|code`` -> (system, code); ``code`` -> (None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return (system or None), code
    return None, value


def questionnaire_search(params: dict[str, str], snapshot: datetime | None = None) -> list[Built]:
    """The built-in and imported Questionnaires matching every parameter, in their one
    stable order: built-ins first, then imports by insert time (up to ``snapshot``)."""
    code_system, code = _token(params["code"]) if "code" in params else (None, None)
    url = params.get("url")
    name = params.get("name", "").lower()
    wanted_id = params.get("_id")
    found: list[Built] = []
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
        found.append(Built(builtin.builtin_id(instrument.code), text, None, None))
    rows = StoredResource.objects.filter(resource_type="Questionnaire")
    if snapshot is not None:
        rows = rows.filter(created_at__lte=snapshot)
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
    found.extend(
        Built(resource_id, text, None, created_at)
        for resource_id, text, created_at in rows.order_by("created_at", "pk").values_list(
            "resource_id", "json_text", "created_at"
        )
    )
    return found


def questionnaire_get(resource_id: str) -> Built:
    found = questionnaire_search({"_id": resource_id})
    if not found:
        raise FhirProblem(404, [Issue("not-found", f"Questionnaire/{resource_id} is not known")])
    return found[0]


def _patients_named(user: Any, kind: ResourceType, parsed: Parsed) -> list[UUID]:
    """The patients the search names (``patient=``, ``subject=``): 404 for one the user may
    not see, as a read of it would answer; 400 when the type needs one and none is given.
    The check is ``patients_visible_to``'s rule in a statement of fixed text (search/visible.py)."""
    found = []
    for name in kind.patient_params:
        for raw in parsed.filters.get(name, []):
            for part in raw.split(","):
                try:
                    patient_id = reference(part, "Patient")
                except ValueError as exc:
                    raise FhirProblem(400, [Issue("value", str(exc), name)]) from None
                pk = _uuid(patient_id)
                if pk is None or not patient_visible(user, pk):
                    raise FhirProblem(
                        404, [Issue("not-found", f"Patient/{patient_id} is not known", name)]
                    ) from None
                found.append(pk)
    if kind.requires_patient and not found:
        raise FhirProblem(400, [Issue("required", "the patient parameter is required", "patient")])
    return found


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def _audit(user: Any, kind: ResourceType, entries: Sequence[Built], named: list[UUID]) -> None:
    """Each resource shown is an audited read, a page's records of one patient in one event
    naming each of them (issue 16: was one event per record); a search naming a patient that
    shows nothing (or only counts) is an audited read of that patient."""
    if kind.audit_type is None:
        return
    # One event per patient for the page: it names every record shown (audit page_target).
    shown: dict[Any, list[str]] = {}
    for entry in entries:
        shown.setdefault(entry.patient_id, []).append(entry.resource_id)
    targets = [page_target(kind.audit_type, ids, patient) for patient, ids in shown.items()] or [
        AuditTarget("Patient", str(pk), pk) for pk in named
    ]
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)


def resource_search(type_name: str, user: Any, parsed: Parsed, cursor: Cursor | None) -> Page:
    """One page of a search of ``type_name``, access-checked and audited."""
    kind = TYPES[type_name]
    named = _patients_named(user, kind, parsed)
    page = None
    if fast.applies(kind, parsed):  # Observation?patient=<id>: one statement (search/fast.py)
        page = fast.search(kind, named[0], parsed, cursor)
    if page is None:
        page = engine.search(kind, user, parsed, cursor)
    _audit(user, kind, page.entries, named)
    return page


def flag_search(user: Any, parsed: Parsed, cursor: Cursor | None) -> Page:
    """The patient's safety flags as FHIR Flags (kept by name: the error tests replace it)."""
    return resource_search("Flag", user, parsed, cursor)


def resource_read(type_name: str, user: Any, resource_id: str) -> Built:
    """One resource, access-checked (404 when not the user's to see) and audited."""
    kind = TYPES[type_name]
    built = engine.read(kind, user, resource_id)
    if kind.audit_type is not None:
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget(kind.audit_type, built.resource_id, built.patient_id)],
        )
    return built


def organization_list(user: Any) -> list[Built]:
    """The clinic, for anyone who may use the API (staff and patients)."""
    if not (user_can(user, "patient.view_any") or user_can(user, "patient.view_own")):
        raise FhirProblem(403, [Issue("forbidden", "this account may not use the FHIR API")])
    return organizations()
