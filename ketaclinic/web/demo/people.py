"""The demo's staff logins (with a TOTP device for the roles that must use one, its secret
printed for the newcomer's authenticator app), patients and patient logins."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import TWO_FACTOR_REQUIRED, Role
from ketaclinic.accounts.services import user_create
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_create

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  synthetic demo clinic, printed for the user
STAFF = (
    ("ada", Role.CLINICIAN, "Ada", "Okafor", "Dr Ada (prescriber)"),
    ("ben", Role.NURSE, "Ben", "Marsh", "Nurse Ben"),
    ("eve", Role.NURSE, "Eve", "Lindqvist", "Nurse Eve (second checks)"),
    ("cleo", Role.INTAKE, "Cleo", "Park", "Cleo, intake"),
    ("dana", Role.ADMIN, "Dana", "Reyes", "Admin Dana"),
)
PATIENT_USERS = ("pat", "quinn")
SEED = 2026


@dataclass
class Staff:
    ada: User
    ben: User
    eve: User
    cleo: User
    dana: User


def staff_ensure() -> Staff:
    users = {}
    for username, role, first, last, _label in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                acting_user=None,
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                email=f"{username}@clinic.example.org",
                validate=False,
            )
        if not user.first_name:
            # The name shown in the header; not clinical data (no service writes it).
            User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)
            user.first_name, user.last_name = first, last
        if role in TWO_FACTOR_REQUIRED and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
        users[username] = user
    return Staff(**users)


def totp_secret(user: User) -> str:
    """The base32 secret of the user's demo device, to type into an authenticator app."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return ""
    return base64.b32encode(device.bin_key).decode()


def patients_ensure(count: int) -> list[Patient]:
    """``count`` synthetic patients (Faker, fixed seed), the oldest records first."""
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)  # noqa: S311  synthetic data, not security
    existing = Patient.objects.count()
    for _ in range(max(0, count - existing)):
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
    return list(Patient.objects.order_by("created_at", "mrn"))


def patient_users_ensure() -> None:
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
