"""`ketaclinic worker`: runs queued jobs (django-tasks, database backend) and enqueues the
periodic ones on their interval."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from ketaclinic.jobs.management.commands.worker import _periodic_loop
from ketaclinic.jobs.periodic import periodic_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_enqueues_every_periodic_job_then_runs_it(transactional_db: Any) -> None:
    assert [j.task_path for j in periodic_jobs()] == [
        "ketaclinic.fhir.bulk.tasks.bulk_export_sweep"
    ]
    stop = threading.Event()
    ticker = threading.Thread(target=_periodic_loop, args=(stop, 0.05))
    ticker.start()
    try:
        for _ in range(100):
            if DBTaskResult.objects.exists():
                break
            stop.wait(0.05)
    finally:
        stop.set()
        ticker.join(timeout=10)
    queued = DBTaskResult.objects.get()  # once: its interval (60 s) has not come round
    assert queued.task_path == "ketaclinic.fhir.bulk.tasks.bulk_export_sweep"
    call_command("worker", "--batch", verbosity=0)
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
