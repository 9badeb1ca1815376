from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


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
        parser.add_argument("--workers", type=int, default=1, help="worker processes")
        parser.add_argument(
            "--threads", type=int, default=4, help="blocking threads per worker (DB waits)"
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
        argv = [
            sys.executable, "-m", "granian",
            "--interface", "wsgi",
            "--host", host,
            "--port", str(port),
            "--workers", str(options["workers"]),
            "--blocking-threads", str(options["threads"]),
            "--no-access-log",
            "ketaclinic.wsgi:application",
        ]  # fmt: skip
        self.stdout.write(f"KetaClinic serving on http://{options['bind']}")
        self.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
        os.execv(sys.executable, argv)  # noqa: S606  replaces this process with the server
