from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.web.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a `ketaclinic backup` FILE into this clinic's database, then run "
        "`audit verify` and `ledger verify`. Refuses a database that is not empty unless "
        "--force (which replaces everything in it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="replace a database that is not empty"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["file"]
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        try:
            restore(source, force=options["force"])
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"restored from {source}; verifying")
        try:
            call_command("audit", "verify", stdout=self.stdout)
            call_command("ledger", "verify", stdout=self.stdout)
        except CommandError as error:
            raise CommandError(f"restored, but the check failed: {error}") from error
