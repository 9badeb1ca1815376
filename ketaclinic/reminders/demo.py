"""Reminder preferences for a few demo patients (the demo loader calls this; idempotent)."""

from __future__ import annotations

from datetime import time

from ketaclinic.patients.models import Patient
from ketaclinic.reminders.models import ReminderPreference

# (e-mail, SMS, quiet from, quiet until) for the demo's first patients, in record order: one
# on both channels, one by text only with a later night, one who wants none. The rest keep
# the defaults (e-mail, quiet 21:00-08:00).
DEMO_PREFERENCES = (
    (True, True, time(21, 0), time(8, 0)),
    (False, True, time(22, 30), time(7, 0)),
    (False, False, None, None),
)


def reminder_preferences_ensure() -> int:
    patients = Patient.objects.order_by("created_at", "mrn")[: len(DEMO_PREFERENCES)]
    made = 0
    for patient, (email, sms, start, end) in zip(patients, DEMO_PREFERENCES, strict=False):
        _row, created = ReminderPreference.objects.get_or_create(
            patient=patient,
            defaults={"email": email, "sms": sms, "quiet_start": start, "quiet_end": end},
        )
        made += created
    return made
