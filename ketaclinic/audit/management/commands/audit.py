from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.verify import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. `ketaclinic audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Check every event against its hash and predecessor.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            problem = audit_verify()
            if problem is not None:
                raise CommandError(f"audit chain broken at {problem}")
            count = AuditEvent.objects.count()
            self.stdout.write(f"audit chain intact: {count} events verified")
