"""The reminder drill with real processes: two `ketaclinic worker` processes at once, then a
worker killed (SIGKILL) in the middle of its run and another started, all sending through a
real SMTP server (aiosmtpd) and the fake SMS provider. Each event gets exactly one e-mail and
one text per channel; a delivery the killed worker had claimed but not confirmed is never sent
twice (at most once) and is listed for staff; a patient in their quiet hours gets nothing;
no body carries clinical text."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.patients.models import Patient
from ketaclinic.reminders import selectors
from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus
from ketaclinic.reminders.tests.fakes import (
    FakeSmsProvider,
    fake_sms_provider,
    smtp_server,
    text_of,
)
from ketaclinic.reminders.tests.helpers import SENDER, SID, TOKEN, book, local, prefer
from ketaclinic.testing import Clinic, make_clinic, make_patient

ROOT = Path(__file__).resolve().parents[3]
CLINICAL = ("ketamine", "infusion", "gad-7", "phq-9", "anxiety", "dose")


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgresql://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}"
        f"/{settings['NAME']}"
    )


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ketaclinic", "worker", "--interval", "0.2", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _until(check: Any, limit: float = 120) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, "timed out"
        time.sleep(0.1)


def _patients(clinic: Clinic, prefix: str, count: int, start: datetime) -> list[Patient]:
    made = []
    for n in range(count):
        patient = make_patient(
            given_name=f"{prefix}{n}",
            email=f"{prefix.lower()}{n}@example.org",
            phone=f"555-{prefix[0]}{n:03d}",
        )
        prefer(patient, quiet=None)
        book(clinic, start, patient=patient)
        made.append(patient)
    return made


def _finished_jobs() -> int:
    return DBTaskResult.objects.filter(
        task_path="ketaclinic.reminders.tasks.reminders_send_due", status="SUCCESSFUL"
    ).count()


def _received(patient: Patient, inbox: Any, sms: FakeSmsProvider) -> tuple[int, int]:
    return len(inbox.to(patient.email)), len(sms.bodies_to(patient.phone))


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_killed_one_send_each_reminder_at_most_once(settings: Any) -> None:
    clinic = make_clinic()
    tomorrow = local(1, 10)
    first = _patients(clinic, "Alpha", 6, tomorrow)
    # Quiet hours around the clinic's present moment: nothing may reach this patient.
    now = timezone.localtime()
    quiet = make_patient(given_name="Quiet", email="quiet@example.org", phone="555-9999")
    prefer(
        quiet,
        quiet=((now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()),
    )
    book(clinic, tomorrow, patient=quiet)
    with smtp_server() as (inbox, smtp_port), fake_sms_provider() as sms:
        sms.delay = 0.2  # slow enough that the two workers' runs overlap
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
            "KETACLINIC_DATABASE_URL": _database_url(),
            "KETACLINIC_SECRET_KEY": settings.SECRET_KEY,
            "KETACLINIC_TIME_ZONE": settings.TIME_ZONE,
            "KETACLINIC_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "KETACLINIC_EMAIL_HOST": "127.0.0.1",
            "KETACLINIC_EMAIL_PORT": str(smtp_port),
            "KETACLINIC_SMS_BACKEND": "ketaclinic.reminders.channels.sms.HttpSMSBackend",
            "KETACLINIC_SMS_BASE_URL": sms.base_url,
            "KETACLINIC_SMS_ACCOUNT_SID": SID,
            "KETACLINIC_SMS_AUTH_TOKEN": TOKEN,
            "KETACLINIC_SMS_FROM": SENDER,
        }
        # 1. Two workers at once: each enqueues the reminders job when it starts, and the
        # two jobs run side by side.
        workers = [_worker(env), _worker(env)]
        try:
            _until(lambda: _finished_jobs() >= 2)
        finally:
            for worker in workers:
                _stop(worker)
        for patient in first:
            assert _received(patient, inbox, sms) == (1, 1), patient.given_name
        assert _received(quiet, inbox, sms) == (0, 0)
        assert not Delivery.objects.filter(patient=quiet).exists()
        assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}

        # 2. A worker killed in the middle of its run, then another started.
        second = _patients(clinic, "Bravo", 8, local(1, 11))
        sms.delay = 0.6

        def some_sent() -> bool:
            return (
                Delivery.objects.filter(
                    patient__in=second, channel=Channel.SMS, status=DeliveryStatus.SENT
                ).count()
                >= 2
            )

        doomed = _worker(env)
        try:
            _until(some_sent)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
        finally:
            if doomed.poll() is None:
                doomed.kill()
        left = Delivery.objects.filter(patient__in=second).count()
        assert left < 2 * len(second), "the drill killed the worker too late"
        replacement = _worker(env)
        try:
            _until(lambda: _finished_jobs() >= 3)
        finally:
            _stop(replacement)

    rows = {(d.patient_id, d.channel): d for d in Delivery.objects.filter(patient__in=second)}
    assert len(rows) == 2 * len(second)  # every event and channel was taken, once
    stuck = [d for d in rows.values() if d.status == DeliveryStatus.CLAIMED]
    for patient in second:
        email, text = _received(patient, inbox, sms)
        for channel, count in ((Channel.EMAIL, email), (Channel.SMS, text)):
            delivery = rows[(patient.pk, channel)]
            if delivery.status == DeliveryStatus.SENT:
                assert count == 1, (patient.given_name, channel)
            else:  # claimed by the killed worker: perhaps sent, never twice
                assert delivery.status == DeliveryStatus.CLAIMED
                assert count <= 1
    assert len(stuck) <= 2  # at most the one e-mail and the one text in flight
    later = timezone.now() + timedelta(seconds=settings.REMINDERS_UNCONFIRMED_AFTER_SECONDS + 1)
    listed = selectors.deliveries_needing_attention(clinic.users["ben"], now=later)
    assert sorted(d.pk for d in listed) == sorted(d.pk for d in stuck)
    assert _received(quiet, inbox, sms) == (0, 0)
    bodies = [r.form["Body"] for r in sms.requests] + [text_of(m) for m in inbox.messages]
    for body in bodies:
        for word in CLINICAL:
            assert word not in body.lower()
