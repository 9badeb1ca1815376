from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.web.backups import BackupError, backup, is_postgresql


class Command(BaseCommand):
    help = (
        "Write the whole database to FILE: pg_dump's custom format on PostgreSQL, SQLite's "
        "online backup on SQLite (safe while the app serves). `ketaclinic restore` reads it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        try:
            backup(target)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        kind = "pg_dump custom format" if is_postgresql() else "SQLite"
        self.stdout.write(f"backup written: {target} ({kind}, {target.stat().st_size} bytes)")
