"""Reminders found and sent by `reminders_run` (the worker's job), against the fake SMS
provider and Django's test mail outbox: once per event and channel, the patient's channels and
quiet hours, retries for failures the provider reports, never a resend of an unconfirmed one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from django.core import mail

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses.bookings import session_cancel, session_no_show
from ketaclinic.courses.models import SessionChange
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.reminders import selectors
from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus, Kind
from ketaclinic.reminders.services import reminders_run
from ketaclinic.reminders.tests.fakes import FakeSmsProvider, basic_auth, fake_sms_provider
from ketaclinic.reminders.tests.helpers import (
    SENDER,
    SID,
    TOKEN,
    book,
    local,
    prefer,
    use_fake_provider,
)
from ketaclinic.scales.models import RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic

NIGHT = (time(21, 0), time(8, 0))


@pytest.fixture
def sms(settings: Any) -> Iterator[FakeSmsProvider]:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        yield provider


def test_a_session_tomorrow_is_reminded_once_by_each_chosen_channel(
    clinic: Clinic, sms: FakeSmsProvider
) -> None:
    prefer(clinic.pat, quiet=NIGHT)
    session = book(clinic, local(1, 10))
    summary = reminders_run(now=local(0, 9))
    assert summary.sent == 2
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    assert len(sms.bodies_to("555-0100")) == 1
    request = sms.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.auth == basic_auth(SID, TOKEN)
    assert request.form["From"] == SENDER
    rows = Delivery.objects.filter(event_key=f"session:{session.pk}")
    assert {(r.channel, r.status) for r in rows} == {
        (Channel.EMAIL, DeliveryStatus.SENT),
        (Channel.SMS, DeliveryStatus.SENT),
    }
    assert all(r.provider_ref for r in rows)
    # Each delivery audited (claimed, then sent), without the body.
    events = AuditEvent.objects.filter(object_type="ReminderDelivery")
    assert events.count() == 4
    assert {e.patient_id for e in events} == {clinic.pat.pk}
    # Later runs (the next minute, the evening) send nothing more.
    reminders_run(now=local(0, 9, 1))
    reminders_run(now=local(0, 20))
    assert len(mail.outbox) == 1
    assert len(sms.requests) == 1


def test_quiet_hours_hold_a_reminder_until_they_end_before_the_session(
    clinic: Clinic, sms: FakeSmsProvider
) -> None:
    prefer(clinic.pat, quiet=NIGHT)
    book(clinic, local(1, 10))
    assert reminders_run(now=local(0, 22)).waiting == 2
    assert reminders_run(now=local(1, 7, 59)).waiting == 2
    assert not mail.outbox and not sms.requests
    assert reminders_run(now=local(1, 8)).sent == 2  # when the quiet hours end
    assert len(mail.outbox) == 1 and len(sms.requests) == 1


def test_no_reminder_after_the_session_when_quiet_hours_end_too_late(
    clinic: Clinic, sms: FakeSmsProvider
) -> None:
    prefer(clinic.pat, quiet=NIGHT)
    book(clinic, local(1, 8, 30))  # quiet until 08:00, less than an hour before
    assert reminders_run(now=local(0, 22)).skipped == 2
    reminders_run(now=local(1, 8))
    assert not mail.outbox and not sms.requests
    assert not Delivery.objects.exists()


def test_the_patients_channels_are_respected(clinic: Clinic, sms: FakeSmsProvider) -> None:
    book(clinic, local(1, 10))  # Pat never chose: the default, e-mail only
    book(clinic, local(1, 11), patient=clinic.quinn)
    prefer(clinic.quinn, email=False, sms=False)  # Quinn wants none
    reminders_run(now=local(0, 12))
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    assert not sms.requests


def test_a_due_questionnaire_is_reminded_once_per_due_date(
    clinic: Clinic, sms: FakeSmsProvider
) -> None:
    prefer(clinic.pat, sms=False, quiet=None)
    schedule_create(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
        starts_on=local(-1, 0).date(),
    )
    reminders_run(now=local(0, 12))
    reminders_run(now=local(0, 13))
    assert len(mail.outbox) == 1
    assert "You have a questionnaire to fill in." in str(mail.outbox[0].body)
    delivery = Delivery.objects.get()
    assert delivery.kind == Kind.QUESTIONNAIRE_DUE


def test_a_session_never_checked_in_is_followed_up_once(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    settings.REMINDERS_MISSED_AFTER_MINUTES = 120
    prefer(clinic.pat, quiet=None)
    missed = book(clinic, local(0, 9))
    attended = book(clinic, local(0, 9, 30), patient=clinic.quinn)
    Session.objects.filter(pk=attended.pk).update(status=SessionStatus.DISCHARGED)
    cancelled = book(clinic, local(0, 8), patient=clinic.quinn)
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    prefer(clinic.quinn, quiet=None)
    assert reminders_run(now=local(0, 10, 59)).sent == 0  # not yet two hours
    reminders_run(now=local(0, 11, 1))
    reminders_run(now=local(0, 15))
    assert {d.event_key for d in Delivery.objects.all()} == {f"missed:{missed.pk}"}
    assert len(mail.outbox) == 1 and len(sms.requests) == 1
    assert "We missed you" in sms.requests[0].form["Body"]


def test_a_session_marked_as_not_attended_is_followed_up_once_and_a_cancelled_one_never(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    """A no-show closes the session as cancelled (it frees the chair): the change, not the
    status, says the patient missed it. Followed up when marked, once."""
    settings.REMINDERS_MISSED_AFTER_MINUTES = 120
    prefer(clinic.pat, email=False, quiet=None)
    prefer(clinic.quinn, email=False, quiet=None)
    missed = book(clinic, local(0, 9))
    called_off = book(clinic, local(0, 9, 30), patient=clinic.quinn)
    session_no_show(acting_user=clinic.users["ben"], session=missed, reason="did not come")
    session_cancel(acting_user=clinic.users["ben"], session=called_off, reason="ill")
    SessionChange.objects.update(changed_at=local(0, 9, 40))  # marked at 09:40
    assert reminders_run(now=local(0, 9, 35)).sent == 0  # not marked yet at 09:35
    assert reminders_run(now=local(0, 9, 41)).sent == 1
    reminders_run(now=local(0, 11, 30))  # the two hours have passed too: nothing more
    assert {d.event_key for d in Delivery.objects.all()} == {f"missed:{missed.pk}"}
    assert len(sms.requests) == 1
    assert "We missed you" in sms.requests[0].form["Body"]


def test_a_provider_that_is_busy_is_tried_again_after_the_back_off(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    settings.REMINDERS_RETRY_BASE_SECONDS = 60
    prefer(clinic.pat, email=False, quiet=None)
    book(clinic, local(1, 10))
    sms.fail_next = [503]
    now = local(0, 9)
    assert reminders_run(now=now).retrying == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error) == (DeliveryStatus.RETRY, "HTTP 503")
    assert delivery.next_attempt_at is not None
    assert reminders_run(now=now + timedelta(seconds=30)).sent == 0  # still backing off
    assert reminders_run(now=delivery.next_attempt_at + timedelta(seconds=1)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(sms.requests) == 1  # the refused try was never a message


def test_a_refused_number_fails_for_good_and_is_listed_for_staff(
    clinic: Clinic, sms: FakeSmsProvider
) -> None:
    prefer(clinic.pat, email=False, quiet=None)
    book(clinic, local(1, 10))
    sms.fail_next = [400]
    assert reminders_run(now=local(0, 9)).failed == 1
    reminders_run(now=local(0, 10))
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert selectors.deliveries_needing_attention(clinic.users["ben"]) == [delivery]


def test_retries_stop_after_the_last_attempt(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    settings.REMINDERS_MAX_ATTEMPTS = 2
    prefer(clinic.pat, email=False, quiet=None)
    book(clinic, local(1, 10))
    sms.fail_next = [500, 500, 500]
    reminders_run(now=local(0, 9))
    reminders_run(now=local(0, 9, 5))
    reminders_run(now=local(0, 9, 30))
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert not sms.requests


def test_an_answer_that_never_comes_is_not_resent(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    settings.REMINDERS_SMS_TIMEOUT = 1
    prefer(clinic.pat, email=False, quiet=None)
    book(clinic, local(1, 10))
    sms.delay = 1.5  # the provider takes the message but answers too late
    assert reminders_run(now=local(0, 9)).unconfirmed == 1
    sms.delay = 0
    reminders_run(now=local(0, 10))
    assert len(sms.requests) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.UNCONFIRMED
    assert selectors.deliveries_needing_attention(clinic.users["ben"]) == [delivery]


def test_a_claim_whose_worker_died_is_never_resent_and_is_listed_later(
    clinic: Clinic, sms: FakeSmsProvider, settings: Any
) -> None:
    settings.REMINDERS_UNCONFIRMED_AFTER_SECONDS = 300
    prefer(clinic.pat, email=False, quiet=None)
    session = book(clinic, local(1, 10))
    claimed_at = local(0, 9)
    # What a worker killed between its claim and the provider's answer leaves behind.
    stuck = Delivery.objects.create(
        event_key=f"session:{session.pk}",
        channel=Channel.SMS,
        kind=Kind.SESSION_TOMORROW,
        patient=clinic.pat,
        event_at=session.start,
        claimed_at=claimed_at,
        claimed_by="gone:1",
    )
    reminders_run(now=local(0, 9, 1))
    assert not sms.requests
    ben = clinic.users["ben"]
    assert selectors.deliveries_needing_attention(ben, now=local(0, 9, 2)) == []
    assert selectors.deliveries_needing_attention(ben, now=local(0, 9, 6)) == [stuck]
