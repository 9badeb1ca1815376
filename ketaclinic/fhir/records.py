"""Reads across a patient's record: a document's content (``Binary``), a resource's history and
``Patient/{id}/$everything``. Each is access-checked as a read of its type and audited.

Versions: the consent forms (DocumentReference ``consentform-<code>``) are versioned, and
``_history`` lists every version of one. No other resource served here keeps earlier
versions. Signed records (the
MedicationAdministration and Provenance of a signed session, Consent, DocumentReference, an
eligibility decision's Provenance), the stored score Observations and QuestionnaireResponses
and the audit trail are written once and never change, so their one version is their whole
history. Patients, staff (Practitioner, PractitionerRole), chairs, sessions (Encounter), vital
signs (confirmed or marked as artefact later) and Flags (acknowledged) change in place, and
their earlier versions are not kept. So ``_history`` answers the current version alone, and a
versioned read answers it for the current ``versionId`` and 404 for any other. Protocol versions
are versioned in the courses app but are not FHIR resources yet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.fhir import selectors
from ketaclinic.fhir.include import audit_shown
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.resources.care_plan import care_plan_versions
from ketaclinic.fhir.resources.document_reference import (
    PDF,
    consent_key,
    consent_signatures_visible_to,
)
from ketaclinic.fhir.resources.form_versions import TEXT as FORM_TEXT
from ketaclinic.fhir.resources.form_versions import (
    form_binary_key,
    form_text,
    form_versions,
    forms_visible_to,
)
from ketaclinic.fhir.resources.letter_document import letter_binary
from ketaclinic.fhir.resources.session_record import record_pdf_stored, record_versions
from ketaclinic.fhir.search import engine
from ketaclinic.fhir.search.cursor import CursorInvalid, cursor_loads
from ketaclinic.fhir.search.engine import Built
from ketaclinic.fhir.search.params import (
    DEFAULT_COUNT,
    MAX_COUNT,
    Parsed,
    ResultParams,
    date_range,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user

# -- Binary: a document's content ----------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    resource_id: str
    content_type: str
    data: bytes


def binary_read(user: Any, resource_id: str) -> Content:
    """The content a DocumentReference points at, for whoever may read that DocumentReference;
    404 otherwise (as a read of it would answer). A signed copy is audited as a read of the
    Binary; a consent form is not patient data."""
    from ketaclinic.consent.pdf import consent_pdf_bytes

    form = form_binary_key(resource_id)
    if form is not None:
        document = forms_visible_to(user).filter(code=form[0], version=form[1]).first()
        if document is not None:
            return Content(resource_id, FORM_TEXT, form_text(document))
    letter = letter_binary(user, resource_id)
    if letter is not None and letter.pdf is not None:
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Binary", resource_id, letter.patient_id)],
            )
        return Content(resource_id, PDF, bytes(letter.pdf))
    stored = record_pdf_stored(user, resource_id)
    if stored is not None:  # a signed session record's PDF (resources/session_record.py)
        with transaction.atomic():
            audit_record_many(
                actor=user,
                action=Action.READ,
                targets=[AuditTarget("Binary", resource_id, stored[0])],
            )
        return Content(resource_id, PDF, stored[1])
    key = consent_key(resource_id)
    signature = (
        None
        if key is None
        else consent_signatures_visible_to(user)
        .select_related("document", "patient", "recorded_by", "witnessed_by")
        .filter(pk=key)
        .first()
    )
    if signature is None:
        raise FhirProblem(404, [Issue("not-found", f"Binary/{resource_id} is not known")])
    with transaction.atomic():
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Binary", resource_id, signature.patient_id)],
        )
    return Content(resource_id, PDF, consent_pdf_bytes(signature))


# -- history and versioned reads -----------------------------------------------------------------


# Types with resources whose versions are kept: the versions of one, newest first (an empty
# list: not one of the versioned resources of the type).
VERSIONED: dict[str, Callable[[Any, str], Sequence[Built]]] = {
    "DocumentReference": lambda user, resource_id: (
        form_versions(user, resource_id) or record_versions(user, resource_id)
    ),
}
# Care plans keep every signed version (resources/care_plan.py).
VERSIONED["CarePlan"] = care_plan_versions


def history(user: Any, type_name: str, resource_id: str) -> list[Built]:
    """The versions we keep of a resource, newest first (see the module's note): every version
    of a consent form; the current version of anything else."""
    if type_name not in TYPES:
        raise FhirProblem(404, [Issue("not-found", f"{type_name} has no history here")])
    current = selectors.resource_read(type_name, user, resource_id)  # access and audit
    versions = VERSIONED[type_name](user, resource_id) if type_name in VERSIONED else []
    return list(versions) or [current]


def version_read(user: Any, type_name: str, resource_id: str, version_id: str) -> Built:
    """``Resource/{id}/_history/{vid}``: that version where versions are kept, else the current
    version when ``vid`` is its versionId; 404 (OperationOutcome) for any other."""
    versions = history(user, type_name, resource_id)
    for version in versions:
        if version.version_id == version_id:
            return version
    kept = (
        f"only the current version ({versions[0].version_id}) is kept"
        if len(versions) == 1
        else f"the versions kept are {', '.join(v.version_id for v in versions)}"
    )
    raise FhirProblem(
        404,
        [Issue("not-found", f"{type_name}/{resource_id} has no version {version_id!r}: {kept}")],
    )


# -- Patient/{id}/$everything --------------------------------------------------------------------

_SALT = "ketaclinic.fhir.everything"

# The types of a patient's record, in the order $everything walks them, with the parameter
# naming the patient. The audit trail is not part of the record (and is the administrator's).
EVERYTHING: tuple[tuple[str, str], ...] = tuple(
    [("Patient", "_id")]
    + [
        (name, kind.patient_params[0])
        for name, kind in TYPES.items()
        if kind.patient_params and name not in ("Patient", "AuditEvent")
    ]
)


@dataclass
class Everything:
    entries: list[tuple[str, Built]]
    total: int
    next_cursor: str | None
    count: int


def _everything_cursor(snapshot: datetime, index: int, inner: str | None) -> str:
    return signing.dumps([snapshot.isoformat(), index, inner], salt=_SALT, compress=True)


def _cursor_parts(text: str) -> tuple[datetime, int, str | None]:
    try:
        snapshot, index, inner = signing.loads(text, salt=_SALT, max_age=24 * 3600)
        return datetime.fromisoformat(snapshot), int(index), inner
    except (signing.BadSignature, ValueError, TypeError):
        raise FhirProblem(
            400, [Issue("invalid", "this paging link is not one this server made", "_cursor")]
        ) from None


def _types_wanted(raw: str | None) -> list[int]:
    if not raw:
        return list(range(len(EVERYTHING)))
    names = [n.strip() for n in raw.split(",") if n.strip()]
    known = [name for name, _ in EVERYTHING]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise FhirProblem(
            400,
            [
                Issue(
                    "not-supported",
                    f"_type {', '.join(unknown)} is not part of a patient's record here "
                    f"(one of: {', '.join(known)})",
                    "_type",
                )
            ],
        )
    return [i for i, (name, _) in enumerate(EVERYTHING) if name in names]


def _parsed(param: str, patient_id: str, since: str | None, count: int) -> Parsed:
    filters = {param: [patient_id]}
    if since:
        filters["_lastUpdated"] = [f"ge{since}"]
    return Parsed(filters=filters, result=ResultParams(count, None, False))


def everything(
    user: Any,
    patient_id: str,
    *,
    count: int | None,
    since: str | None,
    types: str | None,
    cursor: str | None,
) -> Everything:
    """One page of every resource of the patient's record the user may read: the types in
    ``EVERYTHING`` order, each type in its search order, all under the first page's
    snapshot (records added while a client pages are not shown, none is shown twice)."""
    try:
        patient = patient_get_for_user(user, patient_id, audit=False)
    except (Patient.DoesNotExist, ValueError):
        raise FhirProblem(404, [Issue("not-found", f"Patient/{patient_id} is not known")]) from None
    size = DEFAULT_COUNT if count is None else min(count, MAX_COUNT)
    if since:
        try:
            date_range(since)
        except ValueError as exc:
            raise FhirProblem(400, [Issue("value", f"_since: {exc}", "_since")]) from None
    indexes = _types_wanted(types)
    snapshot, at, inner = (timezone.now(), indexes[0] if indexes else 0, None)
    if cursor:
        snapshot, at, inner = _cursor_parts(cursor)
    pid = str(patient.pk)
    total = 0
    for index in indexes:
        name, param = EVERYTHING[index]
        counted = _parsed(param, pid, since, 0)
        total += engine.search(TYPES[name], user, counted, None, snapshot).total
    shown: list[tuple[str, Built]] = []
    next_cursor = None
    for index in [i for i in indexes if i >= at]:
        if size == 0:
            break
        name, param = EVERYTHING[index]
        room = size - len(shown)
        if room == 0:
            next_cursor = _everything_cursor(snapshot, index, None)
            break
        inner_cursor = None
        if inner is not None and index == at:
            try:
                inner_cursor = cursor_loads(inner, name)
            except CursorInvalid as exc:
                raise FhirProblem(400, [Issue("invalid", str(exc), "_cursor")]) from None
        page = engine.search(
            TYPES[name], user, _parsed(param, pid, since, room), inner_cursor, snapshot
        )
        shown.extend((name, e) for e in page.entries)
        if page.next_cursor is not None:
            next_cursor = _everything_cursor(snapshot, index, page.next_cursor)
            break
    if not shown:
        _audit_patient(user, patient)
    audit_shown(user, shown)
    return Everything(shown, total, next_cursor, size)


def _audit_patient(user: Any, patient: Patient) -> None:
    with transaction.atomic():
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Patient", str(patient.pk), patient.pk)],
        )
