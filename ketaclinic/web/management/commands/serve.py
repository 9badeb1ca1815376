from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ketaclinic.web.serving import SERVER_PID_ENV, port_refusal

# Measured on the project's 2-core machine with `python -m bench --sweep` (bench/README.md):
# one blocking thread per worker and one worker per core served the vitals post fastest, with
# the shortest tail; a worker's threads contend for its GIL. Re-run the sweep on other hardware.
DEFAULT_THREADS = 1


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def unapplied_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind wants HOST:PORT, e.g. 127.0.0.1:8000; got {bind!r}")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = (
        "Serve KetaClinic with the granian WSGI server (static files through WhiteNoise). "
        "Refuses to start while migrations are unapplied."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT")
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="worker processes (default: one per core)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"blocking threads per worker (default {DEFAULT_THREADS}: bench/README.md)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_bind(options["bind"])
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        pending = unapplied_migrations()
        if pending:
            raise CommandError(
                "unapplied migrations: " + ", ".join(pending) + ". Run `ketaclinic migrate` first."
            )
        connection.close()
        refusal = port_refusal(host, port)
        if refusal:
            raise CommandError(refusal)
        argv = [
            sys.executable, "-m", "granian",
            "--interface", "wsgi",
            "--host", host,
            "--port", str(port),
            "--workers", str(options["workers"]),
            "--blocking-threads", str(options["threads"]),
            "--no-access-log",
            # On shutdown, a worker still busy after 10 s is killed rather than waited for.
            "--workers-kill-timeout", "10",
            "ketaclinic.wsgi:application",
        ]  # fmt: skip
        self.stdout.write(f"KetaClinic serving on http://{options['bind']}")
        self.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
        # execv keeps this process id for granian's main process: its workers watch it and
        # end when it dies, even by SIGKILL (ketaclinic/web/serving.py).
        os.environ[SERVER_PID_ENV] = str(os.getpid())
        os.execv(sys.executable, argv)  # noqa: S606  replaces this process with the server
