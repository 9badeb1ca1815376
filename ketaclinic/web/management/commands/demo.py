from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from ketaclinic.courses.models import Course
from ketaclinic.infusions.models import Session
from ketaclinic.messaging.demo import messages_ensure
from ketaclinic.patients.models import Patient
from ketaclinic.reminders.demo import reminder_preferences_ensure
from ketaclinic.today.services import chains_verify
from ketaclinic.web.demo.careplans import THERAPIST, careplans_ensure
from ketaclinic.web.demo.clock import demo_clock
from ketaclinic.web.demo.day import STORIES, STORY_FIRST_PATIENT, DemoDay
from ketaclinic.web.demo.inquiries import inquiries_ensure
from ketaclinic.web.demo.letters import letters_ensure
from ketaclinic.web.demo.people import (
    DEMO_PASSWORD,
    PATIENT_USERS,
    STAFF,
    patient_users_ensure,
    patients_ensure,
    staff_ensure,
    totp_secret,
)


class Command(BaseCommand):
    help = (
        "Create the synthetic demo clinic in the middle of its day: staff in every role, "
        "patients, inquiries, evaluations, consents, courses with earlier infusions and scores, "
        "today's sessions in every state, ketamine stock. Idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=50)

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            staff = staff_ensure()
            patients = patients_ensure(
                max(options["patients"], STORY_FIRST_PATIENT + len(STORIES) + 3)
            )
            patient_users_ensure()
            reminder_preferences_ensure()
            inquiries_ensure(intake=staff.cleo, today=timezone.localdate())
            messages_ensure(nurse=staff.ben, intake=staff.cleo)
            built = Course.objects.exists()
            if not built:
                with demo_clock() as clock:
                    DemoDay(staff=staff, patients=patients, clock=clock).build()
        with transaction.atomic():  # care plans and the therapist login (issue 15)
            careplans_ensure(clinician=staff.ada, password=DEMO_PASSWORD)
            letters_ensure(staff=staff, today=timezone.localdate())
        if not built:
            chains_verify(acting_user=None)
        self._report(staff_secrets={u: totp_secret(getattr(staff, u)) for u in ("ada", "dana")})

    def _report(self, *, staff_secrets: dict[str, str]) -> None:
        write = self.stdout.write
        today = timezone.localdate()
        sessions = Session.objects.filter(start__date=today).count()
        first = Session.objects.order_by("start").values_list("start", flat=True).first()
        write(
            f"Demo clinic ready: {Patient.objects.count()} synthetic patients, "
            f"{sessions} sessions today."
        )
        if sessions == 0 and first is not None:
            write(
                f"  (its day was built on {timezone.localdate(first):%Y-%m-%d}; to see a clinic in "
                "the middle of today, remove var/ketaclinic.sqlite3 and run `make run` again)"
            )
        write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, role, _first, _last, label in STAFF:
            secret = staff_secrets.get(username)
            note = f" — TOTP secret {secret} (add it to an authenticator app)" if secret else ""
            write(f"  {username:6} {role.value:10} {label}{note}")
        for username in PATIENT_USERS:
            write(f"  {username:6} patient    sees only their own record")
        write(f"  {THERAPIST[0]:6} therapist  {THERAPIST[3]}: the care plans that name them")
