"""The reminders' background job (django-tasks, run by ``ketaclinic worker``)."""

from __future__ import annotations

from django_tasks import task

from ketaclinic.reminders import services


@task()
def reminders_send_due() -> None:
    """Send the reminders that are due (each at most once per event and channel)."""
    services.reminders_run()
