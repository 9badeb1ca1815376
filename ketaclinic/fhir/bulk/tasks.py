"""The export's background jobs (django-tasks, run by ``ketaclinic worker``)."""

from __future__ import annotations

from django_tasks import task

from ketaclinic.fhir.bulk import services


@task()
def bulk_export_run(export_id: str, attempt: int) -> None:
    """Write one export (one attempt of it); a stale attempt does nothing."""
    services.bulk_export_run(export_id=export_id, attempt=attempt)


@task()
def bulk_export_sweep() -> None:
    """Remove expired exports' files; run again, or fail, exports whose worker died."""
    services.bulk_export_sweep()
