from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from faker import Faker

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_create

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  synthetic demo clinic, printed for the user
STAFF = (
    ("ada", Role.CLINICIAN, "Dr Ada (prescriber)"),
    ("ben", Role.NURSE, "Nurse Ben"),
    ("cleo", Role.INTAKE, "Cleo, intake"),
    ("dana", Role.ADMIN, "Admin Dana"),
)
PATIENT_USERS = ("pat", "quinn")
SEED = 2026


class Command(BaseCommand):
    help = "Create the synthetic demo clinic (staff in every role, ~50 patients). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=50)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        fake = Faker("en_US")
        fake.seed_instance(SEED)
        rng = random.Random(SEED)  # noqa: S311  synthetic data, not security
        existing = Patient.objects.count()
        for _ in range(max(0, options["patients"] - existing)):
            sex = rng.choice(["female", "male"])
            first = fake.first_name_female() if sex == "female" else fake.first_name_male()
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
            patient_create(
                acting_user=None,
                given_name=first,
                family_name=fake.last_name(),
                birth_date=born,
                sex_at_birth=sex,
                email=f"{first.lower()}.{rng.randrange(100, 999)}@example.org",
                phone=f"555-01{rng.randrange(0, 100):02d}",
                address=fake.address(),
                emergency_contact=f"{fake.name()}, {rng.choice(['partner', 'parent', 'friend'])}, "
                f"555-01{rng.randrange(0, 100):02d}",
                referring_provider=f"Dr {fake.last_name()} (demo referral)",
            )
        for username, role, _label in STAFF:
            if not User.objects.filter(username=username).exists():
                user_create(
                    acting_user=None,
                    username=username,
                    role=role,
                    password=DEMO_PASSWORD,
                    email=f"{username}@clinic.example.org",
                    validate=False,
                )
        unlinked = Patient.objects.filter(user_account__isnull=True).order_by("created_at", "mrn")
        for username in PATIENT_USERS:
            if not User.objects.filter(username=username).exists():
                user_create(
                    acting_user=None,
                    username=username,
                    role=Role.PATIENT,
                    password=DEMO_PASSWORD,
                    patient=unlinked.first(),
                    validate=False,
                )
        self.stdout.write(f"Demo clinic ready: {Patient.objects.count()} synthetic patients.")
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, role, label in STAFF:
            note = (
                " — sets up two-factor (TOTP) at first login"
                if role in (Role.CLINICIAN, Role.ADMIN)
                else ""
            )
            self.stdout.write(f"  {username:6} {role.value:10} {label}{note}")
        for username in PATIENT_USERS:
            self.stdout.write(f"  {username:6} patient    sees only their own record")
