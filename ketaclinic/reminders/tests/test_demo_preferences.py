"""The demo loader's reminder preferences: three patients with a choice each, made once."""

from __future__ import annotations

from ketaclinic.reminders.demo import reminder_preferences_ensure
from ketaclinic.reminders.models import ReminderPreference
from ketaclinic.testing import Clinic


def test_demo_preferences_are_made_once(clinic: Clinic) -> None:
    assert reminder_preferences_ensure() == 2  # the clinic has two patients
    assert reminder_preferences_ensure() == 0
    channels = [p.channels for p in ReminderPreference.objects.order_by("patient__created_at")]
    assert channels == [["email", "sms"], ["sms"]]
