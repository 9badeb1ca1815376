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
    paths = [j.task_path for j in periodic_jobs()]
    assert paths[:1] == ["ketaclinic.fhir.bulk.tasks.bulk_export_sweep"]
    assert "ketaclinic.reminders.tasks.reminders_send_due" in paths
    stop = threading.Event()
    ticker = threading.Thread(target=_periodic_loop, args=(stop, 0.05))
    ticker.start()
    try:
        for _ in range(100):
            if DBTaskResult.objects.count() >= len(paths):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        ticker.join(timeout=10)
    # Each once: their interval (60 s) has not come round.
    queued = list(DBTaskResult.objects.order_by("task_path"))
    assert sorted(q.task_path for q in queued) == sorted(paths)
    call_command("worker", "--batch", verbosity=0)
    for row in queued:
        row.refresh_from_db()
        assert row.status == "SUCCESSFUL"
