"""Writes of the Bulk Data export and the cohorts: kick-off, the job, polling, cancel,
expiry, downloads (audited), and cohorts an administrator defines or deletes."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.fhir.bulk import config
from ketaclinic.fhir.bulk.access import export_visible
from ketaclinic.fhir.bulk.models import (
    BulkExport,
    BulkExportFile,
    Cohort,
    CohortKind,
    CohortMember,
    ExportStatus,
    Tombstone,
)
from ketaclinic.fhir.bulk.params import KickOff
from ketaclinic.fhir.bulk.writer import ExportStopped, attempt_dir, export_write, remove_files
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.patients.models import Patient

logger = logging.getLogger(__name__)
IN_PROGRESS = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def _enqueue(export: BulkExport) -> None:
    from ketaclinic.fhir.bulk.tasks import bulk_export_run

    export_id, attempt = str(export.pk), export.attempt
    transaction.on_commit(lambda: bulk_export_run.enqueue(export_id, attempt))


@transaction.atomic
def bulk_export_start(
    *, acting_user: Any, kind: str, cohort: Cohort | None, kick_off: KickOff, request_url: str
) -> BulkExport:
    """Record the kick-off (audited: an export is an execute of patient data) and queue it."""
    export = BulkExport.objects.create(
        requested_by=acting_user,
        kind=kind,
        cohort=cohort,
        types_json=json.dumps(kick_off.types),
        type_filters_json=json.dumps(kick_off.type_filters),
        since=kick_off.since,
        until=kick_off.until,
        request_url=request_url,
        grant_scope=kick_off.grant_scope,
        patient_ids_json=json.dumps(kick_off.patients) if kick_off.patients else "",
        elements_json=json.dumps(kick_off.elements),
        transaction_time=min(kick_off.until or timezone.now(), timezone.now()),
    )
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="BulkExport",
        object_id=export.pk,
        patient_id=None,
    )
    _enqueue(export)
    return export


def export_patients_check(
    *, user: Any, references: Sequence[str], cohort: Cohort | None
) -> list[str]:
    """The kick-off's ``patient`` list as patient ids: each a patient the requester may see
    and, for a Group export, a member of the group; else 400 naming each (the IG: "the server
    SHOULD return details via an OperationOutcome")."""
    from ketaclinic.fhir.bulk.members import cohort_patient_ids
    from ketaclinic.patients.selectors import patients_visible_to

    wanted = {ref: ref.rstrip("/").rsplit("/", 1)[-1] for ref in references}
    valid = {ref: pk for ref, pk in wanted.items() if _is_uuid(pk)}
    visible = patients_visible_to(user).filter(pk__in=list(valid.values()))
    if cohort is not None:
        visible = visible.filter(pk__in=cohort_patient_ids(cohort))
    found = {str(pk) for pk in visible.values_list("pk", flat=True)}
    missing = [ref for ref, pk in wanted.items() if pk not in found]
    if missing:
        where = "known, or not members of the group" if cohort is not None else "known"
        raise FhirProblem(
            400,
            [Issue("not-found", f"patient {ref} is not {where}", "patient") for ref in missing],
        )
    return sorted(found)


def _is_uuid(raw: str) -> bool:
    try:
        UUID(raw)
    except ValueError:
        return False
    return True


def bulk_export_run(*, export_id: str, attempt: int) -> None:
    """The job: claim this attempt, write the files, publish them; a failure is recorded as
    a sentence the status URL reports (never the exception's text: it may hold data)."""
    claimed = BulkExport.objects.filter(
        pk=export_id, attempt=attempt, status=ExportStatus.QUEUED
    ).update(status=ExportStatus.RUNNING, heartbeat_at=timezone.now())
    if not claimed:
        return  # cancelled, superseded by a newer attempt, or already done
    export = BulkExport.objects.select_related("requested_by", "cohort").get(pk=export_id)
    try:
        export_write(export)
    except ExportStopped:
        export.refresh_from_db(fields=["status", "attempt"])
        if export.status == ExportStatus.CANCELLED:
            remove_files(export)
    except Exception as exc:
        logger.error("bulk export %s failed (%s)", export_id, type(exc).__name__)
        BulkExport.objects.filter(pk=export_id, attempt=attempt).update(
            status=ExportStatus.FAILED,
            error=f"the export job failed ({type(exc).__name__}); start a new export",
        )
        remove_files(export)


def bulk_export_recover(export: BulkExport, now: datetime | None = None) -> bool:
    """A running export whose job has been silent for ``stale_after`` lost its worker (a
    restart, a kill): run it again as a new attempt (its old files removed), or fail it
    after ``max_attempts``. True when the export was changed."""
    now = now or timezone.now()
    if export.status != ExportStatus.RUNNING or export.heartbeat_at is None:
        return False
    if export.heartbeat_at > now - config.stale_after():
        return False
    shutil.rmtree(attempt_dir(export), ignore_errors=True)
    with transaction.atomic():
        if export.attempt >= config.max_attempts():
            changed = BulkExport.objects.filter(
                pk=export.pk, attempt=export.attempt, status=ExportStatus.RUNNING
            ).update(
                status=ExportStatus.FAILED,
                error=f"the export job stopped {export.attempt} times (worker restarts); "
                "start a new export",
            )
        else:
            changed = BulkExport.objects.filter(
                pk=export.pk, attempt=export.attempt, status=ExportStatus.RUNNING
            ).update(
                status=ExportStatus.QUEUED,
                attempt=export.attempt + 1,
                progress=0,
                heartbeat_at=None,
            )
            if changed:
                export.attempt += 1
                _enqueue(export)
    export.refresh_from_db()
    return bool(changed)


def _expire(export: BulkExport) -> None:
    remove_files(export)
    BulkExport.objects.filter(pk=export.pk, status=ExportStatus.COMPLETED).update(
        status=ExportStatus.EXPIRED
    )


def bulk_export_sweep(now: datetime | None = None) -> None:
    """Expire what is due; recover what lost its worker (the worker runs this periodically)."""
    now = now or timezone.now()
    for export in BulkExport.objects.filter(status=ExportStatus.COMPLETED, expires_at__lte=now):
        _expire(export)
    stale = BulkExport.objects.filter(
        status=ExportStatus.RUNNING, heartbeat_at__lte=now - config.stale_after()
    )
    for export in stale:
        bulk_export_recover(export, now)


def _not_found() -> FhirProblem:
    return FhirProblem(404, [Issue("not-found", "this export is not known (or was removed)")])


def export_for(user: Any, export_id: UUID) -> BulkExport:
    """The user's own export, or 404 (also for someone else's)."""
    export = BulkExport.objects.filter(pk=export_id).first()
    if export is None or not export_visible(user, export.requested_by_id):
        raise _not_found()
    return export


@dataclass(frozen=True)
class Poll:
    export: BulkExport
    too_soon: bool = False


def bulk_export_poll(*, user: Any, export_id: UUID) -> Poll:
    """One status request: 404 for gone ones; ``too_soon`` when the client polls faster than
    Retry-After (a little slack for clocks and network)."""
    export = export_for(user, export_id)
    now = timezone.now()
    if export.status == ExportStatus.COMPLETED and export.expires_at and export.expires_at <= now:
        _expire(export)
        raise _not_found()
    if export.status in (ExportStatus.CANCELLED, ExportStatus.EXPIRED):
        raise _not_found()
    if export.status not in IN_PROGRESS:
        return Poll(export)
    bulk_export_recover(export, now)
    earliest = now - timedelta(seconds=config.retry_after() * 0.8)
    allowed = BulkExport.objects.filter(
        Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=earliest), pk=export.pk
    ).update(last_polled_at=now)
    return Poll(export, too_soon=not allowed)


@transaction.atomic
def bulk_export_cancel(*, acting_user: Any, export_id: UUID) -> None:
    """DELETE on the status URL: stop the job (it checks after each chunk), remove files."""
    export = export_for(acting_user, export_id)
    if export.status in (ExportStatus.CANCELLED, ExportStatus.EXPIRED):
        raise _not_found()
    BulkExport.objects.filter(pk=export.pk).update(status=ExportStatus.CANCELLED)
    audit_record(
        actor=acting_user,
        action=Action.DELETE,
        object_type="BulkExport",
        object_id=export.pk,
        patient_id=None,
    )
    transaction.on_commit(lambda: remove_files(export))


def bulk_export_file(*, user: Any, export_id: UUID, name: str) -> tuple[BulkExport, BulkExportFile]:
    """A completed export's file for its requester, audited: one event per download naming
    the export and the file (whose row keeps how many patients' data it holds)."""
    export = export_for(user, export_id)
    if export.status != ExportStatus.COMPLETED or (
        export.expires_at is not None and export.expires_at <= timezone.now()
    ):
        raise _not_found()
    found = BulkExportFile.objects.filter(export=export, name=name).first()
    if found is None:
        raise FhirProblem(404, [Issue("not-found", "this export has no such file")])
    with transaction.atomic():
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("BulkExportFile", f"{export.pk}/{found.pk}", None)],
        )
    return export, found


@transaction.atomic
def cohort_define(
    *,
    acting_user: Any,
    name: str,
    protocol_code: str = "",
    patient_ids: Sequence[UUID | str] = (),
) -> Cohort:
    """A cohort of the listed patients, or (``protocol_code``) of every patient with a course
    on that protocol. Unknown patient ids are refused (ValueError)."""
    if bool(protocol_code) == bool(patient_ids):
        raise ValueError("a cohort is a protocol code or a list of patients, not both")
    kind = CohortKind.PROTOCOL if protocol_code else CohortKind.LIST
    cohort = Cohort(name=name, kind=kind, protocol_code=protocol_code, created_by=acting_user)
    cohort.full_clean()
    cohort.save()
    if patient_ids:
        patients = list(Patient.objects.filter(pk__in=list(patient_ids)))
        if len(patients) != len(set(map(str, patient_ids))):
            raise ValueError("some of these patients are not known")
        CohortMember.objects.bulk_create(CohortMember(cohort=cohort, patient=p) for p in patients)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Group",
        object_id=cohort.pk,
        patient_id=None,
    )
    return cohort


@transaction.atomic
def cohort_delete(*, acting_user: Any, cohort: Cohort) -> None:
    """Remove a cohort; exports with ``_since`` list it under ``deleted``."""
    Tombstone.objects.create(resource_type="Group", resource_id=str(cohort.pk))
    audit_record(
        actor=acting_user,
        action=Action.DELETE,
        object_type="Group",
        object_id=cohort.pk,
        patient_id=None,
    )
    cohort.delete()
