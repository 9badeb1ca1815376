from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection

from ketaclinic.jobs.periodic import periodic_jobs
from ketaclinic.web.management.commands.serve import unapplied_migrations


def _periodic_loop(stop: threading.Event, tick: float) -> None:
    """Enqueue each periodic job at start and then on its interval."""
    jobs = periodic_jobs()
    due = dict.fromkeys((job.task_path for job in jobs), 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if now >= due[job.task_path]:
                try:
                    job.task().enqueue()
                except Exception:  # the database is away (or busy): try again next tick
                    close_old_connections()
                    continue
                due[job.task_path] = now + job.every.total_seconds()
        stop.wait(tick)
    connection.close()


class Command(BaseCommand):
    help = (
        "Run the background jobs (django-tasks, database backend) beside `ketaclinic serve`, "
        "and enqueue the periodic ones on their interval. Refuses to start while migrations "
        "are unapplied."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", help="queue names (default: default)")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks for a job"
        )
        parser.add_argument(
            "--batch", action="store_true", help="run what is queued, then exit (no periodic)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pending = unapplied_migrations()
        if pending:
            raise CommandError(
                "unapplied migrations: " + ", ".join(pending) + ". Run `ketaclinic migrate` first."
            )
        stop = threading.Event()
        ticker = None
        if not options["batch"]:
            ticker = threading.Thread(
                target=_periodic_loop, args=(stop, 5.0), name="periodic", daemon=True
            )
            ticker.start()
        try:
            call_command(
                "db_worker",
                queue_name=",".join(options["queue"] or ["default"]),
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                startup_delay=not options["batch"],
                verbosity=options["verbosity"],
            )
        finally:
            stop.set()
            if ticker is not None:
                ticker.join(timeout=10)
