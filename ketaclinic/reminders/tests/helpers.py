"""Shared set-up for the reminder tests: a patient's preference, a session, the HTTP SMS
backend pointed at the fake provider, times in the clinic's zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from ketaclinic.infusions.models import Session
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.patients.models import Patient
from ketaclinic.reminders.models import ReminderPreference
from ketaclinic.reminders.tests.fakes import FakeSmsProvider
from ketaclinic.testing import Clinic

SID, TOKEN, SENDER = "AC-test-account", "test-token", "+15550000000"


def use_fake_provider(settings: Any, provider: FakeSmsProvider) -> None:
    settings.REMINDERS_SMS_BACKEND = "ketaclinic.reminders.channels.sms.HttpSMSBackend"
    settings.REMINDERS_SMS_BASE_URL = provider.base_url
    settings.REMINDERS_SMS_ACCOUNT_SID = SID
    settings.REMINDERS_SMS_AUTH_TOKEN = TOKEN
    settings.REMINDERS_SMS_FROM = SENDER
    settings.REMINDERS_SMS_TIMEOUT = 2


def prefer(
    patient: Patient,
    *,
    email: bool = True,
    sms: bool = True,
    quiet: tuple[time, time] | None = None,
) -> ReminderPreference:
    return ReminderPreference.objects.update_or_create(
        patient=patient,
        defaults={
            "email": email,
            "sms": sms,
            "quiet_start": quiet[0] if quiet else None,
            "quiet_end": quiet[1] if quiet else None,
        },
    )[0]


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the clinic's zone, `day_offset` days from today."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def book(clinic: Clinic, start: datetime, patient: Patient | None = None) -> Session:
    return session_make(clinic, start=start, patient=patient or clinic.pat)
