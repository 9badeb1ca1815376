"""Jobs the worker enqueues on an interval (the expiry of export files, later the portal's
reminders). Each must be safe to run twice at once (two workers each enqueue it)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

# (dotted path of a django-tasks task, interval in seconds). Apps add theirs here.
DEFAULT_PERIODIC: tuple[tuple[str, int], ...] = (
    ("ketaclinic.fhir.bulk.tasks.bulk_export_sweep", 60),
    ("ketaclinic.reminders.tasks.reminders_send_due", 60),
)


@dataclass(frozen=True)
class Periodic:
    task_path: str
    every: timedelta

    def task(self) -> Any:
        module, _, name = self.task_path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def periodic_jobs() -> list[Periodic]:
    configured = getattr(settings, "PERIODIC_TASKS", DEFAULT_PERIODIC)
    return [Periodic(path, timedelta(seconds=seconds)) for path, seconds in configured]
