from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import User
from ketaclinic.accounts.services import apitoken_create


class Command(BaseCommand):
    help = "Print a new bearer token for a user (last line). Only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=settings.KETACLINIC_API_TOKEN_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError("no active user by that name") from None
        try:
            row, raw = apitoken_create(user=user, days=options["days"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"token {row.prefix}… for {user.username}, expires {row.expires_at:%Y-%m-%d}"
        )
        self.stdout.write(raw)
