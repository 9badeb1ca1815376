from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.ledger.models import Container, LedgerEntry
from ketaclinic.ledger.selectors import ledger_verify


class Command(BaseCommand):
    help = "Ketamine ledger tools. `ketaclinic ledger verify` checks the chain and every balance."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Check every entry's hash and every container's balance.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            problems = ledger_verify()
            if problems:
                for problem in problems[1:]:
                    self.stderr.write(str(problem))
                raise CommandError(f"ledger broken at {problems[0]}")
            self.stdout.write(
                f"ledger intact: {LedgerEntry.objects.count()} entries and "
                f"{Container.objects.count()} container balances verified"
            )
