"""The export job's work: every resource of the export, streamed as NDJSON to files in
constant memory.

Rows come through each source's own access-checked queryset, read with a server-side cursor
(``QuerySet.iterator``) and built a chunk at a time; each resource is written as its served
text (``Built.served_text()``, stored validated JSON: nothing is re-validated here), one line
per resource. After each chunk the job saves its progress and checks that it still owns the
export (the same attempt, still running): a cancelled export or one handed to a new attempt
(its worker was taken as dead) stops here and leaves nothing behind. The files are published
(``BulkExportFile`` rows and the status ``completed``) in one transaction at the end, so a
manifest is never made from a half-written export."""

from __future__ import annotations

import json
import operator
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.fhir.bulk import config
from ketaclinic.fhir.bulk.access import grant_covers
from ketaclinic.fhir.bulk.elements import elements_subset
from ketaclinic.fhir.bulk.members import cohort_patient_ids
from ketaclinic.fhir.bulk.models import (
    BulkExport,
    BulkExportFile,
    ExportKind,
    ExportStatus,
    FilePart,
    Tombstone,
)
from ketaclinic.fhir.outcome import FhirProblem
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.resources.common import BuiltInvalid
from ketaclinic.fhir.resources.stored import RESPONSE_SOURCE, SCORE_SOURCE
from ketaclinic.fhir.search import engine
from ketaclinic.fhir.search.engine import LAST_UPDATED, Built, Source
from ketaclinic.fhir.search.params import Handling
from ketaclinic.fhir.smart.access import principal_for_scopes
from ketaclinic.fhir.smart.models import SmartClient
from ketaclinic.fhir.smart.rules.scopes import (
    ConstraintUnsupported,
    Grant,
    permits,
    search_constraint,
)
from ketaclinic.patients.selectors import patients_visible_to


class ExportStopped(Exception):
    """The export was cancelled, or handed to a newer attempt: stop and write nothing more."""


def attempt_dir(export: BulkExport) -> Path:
    return config.export_dir() / str(export.pk) / f"attempt-{export.attempt}"


def remove_files(export: BulkExport) -> None:
    shutil.rmtree(config.export_dir() / str(export.pk), ignore_errors=True)


@dataclass
class _Part:
    """One NDJSON file being written."""

    row: BulkExportFile
    handle: IO[str]
    patients: set[Any] = field(default_factory=set)


class _Files:
    """The export's files: a new file per type every ``file_lines`` resources."""

    def __init__(self, export: BulkExport) -> None:
        self.export = export
        self.folder = attempt_dir(export)
        self.done: list[_Part] = []
        self.current: dict[tuple[str, str], _Part] = {}
        self.numbers: dict[tuple[str, str], int] = {}
        self.max_lines = config.file_lines()

    def write(self, part: str, resource_type: str, text: str, patient_id: Any) -> None:
        key = (part, resource_type)
        open_part = self.current.get(key)
        if open_part is None or open_part.row.count >= self.max_lines:
            open_part = self._open(part, resource_type)
        open_part.handle.write(text)
        open_part.handle.write("\n")
        open_part.row.count += 1
        if patient_id is not None:
            open_part.patients.add(patient_id)

    def _open(self, part: str, resource_type: str) -> _Part:
        key = (part, resource_type)
        self._close(key)
        number = self.numbers.get(key, 0) + 1
        self.numbers[key] = number
        prefix = "" if part == FilePart.OUTPUT else f"{part}-"
        name = f"{prefix}{resource_type}-{number}.ndjson"
        handle = (self.folder / name).open("w", encoding="utf-8", newline="\n")
        row = BulkExportFile(export=self.export, part=part, resource_type=resource_type, name=name)
        self.current[key] = _Part(row, handle)
        return self.current[key]

    def _close(self, key: tuple[str, str]) -> None:
        part = self.current.pop(key, None)
        if part is None:
            return
        part.handle.close()
        part.row.size = (self.folder / part.row.name).stat().st_size
        part.row.patient_count = len(part.patients)
        part.patients = set()
        self.done.append(part)

    def close(self) -> list[BulkExportFile]:
        for key in list(self.current):
            self._close(key)
        return [p.row for p in self.done]

    def abandon(self) -> None:
        for part in self.current.values():
            part.handle.close()
        self.current = {}


def _filtered(source: Source, rows: QuerySet[Any], type_name: str, query: str) -> QuerySet[Any]:
    parsed, _ = engine.parse(TYPES[type_name], parse_qs(query), Handling.STRICT)
    for name, raw_values in parsed.filters.items():
        apply = source.filters.get(name)
        if apply is None:
            return rows.none()
        for raw in raw_values:
            rows = apply(rows, raw)
    return rows


class ProgramGone(Exception):
    """The SMART program that started the export was removed or deactivated meanwhile."""


@dataclass(frozen=True)
class _Caller:
    """Whom the job reads as: the requester, and a program's grant (None: a person)."""

    user: Any
    grant: Grant | None


def _caller(export: BulkExport) -> _Caller:
    """A person's export reads as that person; a program's as its account with the rights
    of the scopes kept at kick-off (the request's token is gone by now: see bulk/access.py)."""
    if not export.grant_scope:
        return _Caller(export.requested_by, None)
    client = SmartClient.objects.filter(account_id=export.requested_by_id, active=True).first()
    if client is None:
        raise ProgramGone
    user, grant = principal_for_scopes(client, export.grant_scope)
    return _Caller(user, grant)


def _scoped(rows: QuerySet[Any], source: Source, type_name: str, grant: Grant | None) -> Any:
    """The rows a program's constrained scope allows (``system/Observation.rs?category=...``):
    the scope's filter, as a search under that scope gets it (fhir/smart/check.py)."""
    if grant is None:
        return rows
    try:
        constraint = search_constraint(grant, type_name)
    except ConstraintUnsupported:
        return rows.none()  # not covered (the kick-off left such types out): nothing
    if constraint is None:
        return rows
    param, value = constraint
    apply = source.filters.get(param)
    return rows.none() if apply is None else apply(rows, value)


def _rows(
    export: BulkExport,
    type_name: str,
    source: Source,
    patients: list[str] | None,
    caller: _Caller,
) -> QuerySet[Any]:
    rows: QuerySet[Any] = source.rows(caller.user).annotate(**{LAST_UPDATED: source.last_updated})
    rows = _scoped(rows, source, type_name, caller.grant)
    rows = rows.filter(**{f"{source.inserted}__lte": export.transaction_time})
    if export.since is not None:
        rows = rows.filter(**{f"{LAST_UPDATED}__gt": export.since})
    if export.until is not None:
        rows = rows.filter(**{f"{LAST_UPDATED}__lte": export.until})
    if patients is not None:
        name = "_id" if type_name == "Patient" else TYPES[type_name].patient_params[0]
        apply = source.filters.get(name)
        rows = rows.none() if apply is None or not patients else apply(rows, ",".join(patients))
    queries = json.loads(export.type_filters_json).get(type_name, [])
    if queries:
        # Several filters of one type are OR-ed (IG): a row matching any of them.
        matched = [Q(pk__in=_filtered(source, rows, type_name, q).values("pk")) for q in queries]
        rows = rows.filter(reduce(operator.or_, matched))
    if source.prefetch:
        rows = rows.select_related(*source.prefetch)
    return rows.order_by()


def _chunks(rows: QuerySet[Any]) -> Iterator[list[Any]]:
    size = config.chunk_size()
    chunk: list[Any] = []
    for row in rows.iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Sources whose rows hold the resource's validated JSON text (written once, validated at
# write time: resources/stored.py): read as plain tuples, no model instances (the export's
# fast path; a model instance and its three parsed datetimes cost more than the line).
# Built exactly as their ``build`` does (``_build_stored``), served by ``served_text()``.
TEXT_SOURCES = (SCORE_SOURCE, RESPONSE_SOURCE)
_TEXT_FIELDS = ("resource_id", "json_text", "patient_id", LAST_UPDATED)


def _is_text_source(source: Source) -> bool:
    return any(source is text for text in TEXT_SOURCES)


def _text_chunks(rows: QuerySet[Any]) -> Iterator[list[Built]]:
    size = config.chunk_size()
    chunk: list[Built] = []
    for resource_id, text, patient_id, last_updated in rows.values_list(*_TEXT_FIELDS).iterator(
        chunk_size=size
    ):
        chunk.append(Built(resource_id, text, patient_id, last_updated))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _source_chunks(source: Source, rows: QuerySet[Any]) -> Iterator[Iterator[Built | str]]:
    """The source's resources a chunk at a time (a row that cannot be built: a sentence)."""
    if _is_text_source(source):
        for built in _text_chunks(rows):
            yield iter(built)
        return
    for chunk in _chunks(rows):
        yield _built(source, chunk)


def _built(source: Source, chunk: list[Any]) -> Iterator[Built | str]:
    """The chunk's resources; a row that cannot be built is a sentence for the error file."""
    try:
        yield from source.build(chunk)
        return
    except BuiltInvalid:
        pass
    for row in chunk:  # find the bad ones, keep the good ones
        try:
            yield from source.build([row])
        except BuiltInvalid:
            yield f"a resource (row {row.pk}) could not be exported: it did not validate"


def _outcome_line(sentence: str) -> str:
    issue = {"severity": "error", "code": "processing", "diagnostics": sentence}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]})


def _still_mine(export: BulkExport, progress: int, type_name: str) -> None:
    """Save progress and the heartbeat; stop if cancelled or handed to a newer attempt."""
    owned = BulkExport.objects.filter(
        pk=export.pk, attempt=export.attempt, status=ExportStatus.RUNNING
    ).update(progress=progress, progress_type=type_name, heartbeat_at=timezone.now())
    if not owned:
        raise ExportStopped


def _patient_ids(export: BulkExport, user: Any) -> list[str] | None:
    """The patients whose compartments are exported (None: every one the user sees). The
    kick-off's ``patient`` list narrows a Patient or Group export (checked at kick-off)."""
    found = _compartment_ids(export, user)
    if not export.patient_ids_json:
        return found
    listed: list[str] = json.loads(export.patient_ids_json)
    if found is None:
        visible = patients_visible_to(user).filter(pk__in=listed)
        return [str(pk) for pk in visible.values_list("pk", flat=True)]
    return [pk for pk in found if pk in set(listed)]


def _compartment_ids(export: BulkExport, user: Any) -> list[str] | None:
    if export.kind == ExportKind.SYSTEM:
        return None
    if export.kind == ExportKind.PATIENT:
        if user_can(user, "patient.view_any"):
            return None  # every patient: no filter needed
        visible = patients_visible_to(user)
        return [str(pk) for pk in visible.values_list("pk", flat=True)]
    if export.cohort is None:
        return []
    return [str(p) for p in cohort_patient_ids(export.cohort)]


def _deleted(
    export: BulkExport, files: _Files, types: list[str], patients: list[str] | None
) -> None:
    if export.since is None:
        return
    tombstones = Tombstone.objects.filter(
        resource_type__in=types,
        deleted_at__gt=export.since,
        deleted_at__lte=export.until or export.transaction_time,
    )
    if patients is not None:
        tombstones = tombstones.filter(patient_id__in=patients)
    for tombstone in tombstones.order_by("pk").iterator(chunk_size=config.chunk_size()):
        entry = {
            "request": {
                "method": "DELETE",
                "url": f"{tombstone.resource_type}/{tombstone.resource_id}",
            }
        }
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
        files.write(FilePart.DELETED, "Bundle", json.dumps(bundle), tombstone.patient_id)


def _row_check(grant: Grant | None, type_name: str) -> Callable[[str], bool] | None:
    """Under a constrained scope, each resource is checked on its own as well (the filter
    already chose the rows; this holds even where a filter and the scope could disagree).
    None where no check is needed (a person, or a scope without constraints)."""
    if grant is None or permits(grant, type_name, "search"):
        return None

    def allowed(text: str) -> bool:
        resource = json.loads(text)
        return isinstance(resource, dict) and permits(grant, type_name, "search", resource)

    return allowed


def export_write(export: BulkExport) -> None:
    """Write every file of ``export`` (status running, this attempt) and publish them."""
    folder = attempt_dir(export)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = _Files(export)
    caller = _caller(export)
    types = [
        t
        for t in json.loads(export.types_json)
        if caller.grant is None or grant_covers(caller.grant, t)
    ]
    patients = _patient_ids(export, caller.user)
    progress = 0
    try:
        for type_name in types:
            _still_mine(export, progress, type_name)
            check = _row_check(caller.grant, type_name)
            subset = elements_subset(type_name, json.loads(export.elements_json))
            for source in TYPES[type_name].sources:
                try:
                    found = _rows(export, type_name, source, patients, caller)
                except FhirProblem:
                    # A type the requester may not read at all (the audit trail for anyone
                    # but an administrator, as its search answers 403): nothing of it.
                    continue
                for chunk in _source_chunks(source, found):
                    for item in chunk:
                        if isinstance(item, str):
                            files.write(
                                FilePart.ERROR, "OperationOutcome", _outcome_line(item), None
                            )
                            continue
                        text = item.served_text()
                        if check is not None and not check(text):
                            continue  # outside the scope's constraint: never written
                        if subset is not None:
                            text = subset(text)
                        files.write(FilePart.OUTPUT, type_name, text, item.patient_id)
                        progress += 1
                    _still_mine(export, progress, type_name)
        _deleted(export, files, types, patients)
        rows = files.close()
    except BaseException:
        files.abandon()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _publish(export, rows, progress)


def _publish(export: BulkExport, rows: list[BulkExportFile], progress: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        owned = BulkExport.objects.filter(
            pk=export.pk, attempt=export.attempt, status=ExportStatus.RUNNING
        ).update(
            status=ExportStatus.COMPLETED,
            progress=progress,
            completed_at=now,
            expires_at=now + config.expires_after(),
            heartbeat_at=now,
        )
        if not owned:
            raise ExportStopped
        BulkExportFile.objects.filter(export=export).delete()
        BulkExportFile.objects.bulk_create(rows)
