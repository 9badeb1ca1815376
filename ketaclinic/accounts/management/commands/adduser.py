from __future__ import annotations

import getpass
import os
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.patients.models import Patient


class Command(BaseCommand):
    help = (
        "Create a user in one role. The password comes from KETACLINIC_PASSWORD when set, "
        "else a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument("--patient-id", help="For --role patient: the id of their record.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already")
        patient = None
        if options["patient_id"]:
            try:
                patient = Patient.objects.get(pk=UUID(options["patient_id"]))
            except (ValueError, Patient.DoesNotExist):
                raise CommandError("no patient with that id") from None
        password = os.environ.get("KETACLINIC_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            user = user_create(
                acting_user=None,
                username=username,
                role=options["role"],
                password=password,
                email=options["email"],
                patient=patient,
            )
        except (ValidationError, ValueError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(f"created {user.username} ({user.role})")
