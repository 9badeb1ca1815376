"""Staff act on a reminder that needs a look: send it again (one more try by the worker, a
person's decision, recorded and audited) or take it off the list with a note. Only what is on
the list can be acted on, by one person once; a role without `patient.change` cannot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.reminders import services
from ketaclinic.reminders.models import Channel, Delivery, DeliveryStatus, Kind
from ketaclinic.reminders.tests.fakes import fake_sms_provider
from ketaclinic.reminders.tests.helpers import book, local, prefer, use_fake_provider
from ketaclinic.testing import Clinic


def _delivery(clinic: Clinic, status: str, *, key: str = "k", **fields: Any) -> Delivery:
    row = {"event_key": key, "channel": Channel.SMS, "kind": Kind.QUESTIONNAIRE_DUE}
    return Delivery.objects.create(patient=clinic.pat, status=status, **(row | fields))


def test_a_nurse_sends_a_failed_reminder_again_and_the_worker_sends_it_once(
    clinic: Clinic, settings: Any
) -> None:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        prefer(clinic.pat, email=False, sms=True)
        session = book(clinic, local(1, 10))
        key = f"session:{session.pk}"
        delivery = _delivery(
            clinic,
            DeliveryStatus.FAILED,
            key=key,
            kind=Kind.SESSION_TOMORROW,
            event_at=local(1, 10),
            error="HTTP 400",
        )
        ben = clinic.users["ben"]
        services.delivery_send_again(ben, delivery.pk, now=local(0, 11))
        delivery.refresh_from_db()
        assert (delivery.status, delivery.resend_by, delivery.next_attempt_at) == (
            DeliveryStatus.RETRY,
            ben,
            local(0, 11),
        )
        event = AuditEvent.objects.get(object_type="ReminderDelivery", action=Action.UPDATE)
        assert (event.actor, event.patient_id) == (ben, clinic.pat.pk)
        assert services.reminders_run(now=local(0, 11, 1)).sent == 1
        assert services.reminders_run(now=local(0, 11, 2)).sent == 0
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
        assert len(provider.bodies_to("555-0100")) == 1


@pytest.mark.parametrize(
    "status", [DeliveryStatus.SENT, DeliveryStatus.RETRY, DeliveryStatus.HANDLED]
)
def test_what_is_not_on_the_list_cannot_be_sent_again_or_handled(
    clinic: Clinic, status: str
) -> None:
    delivery = _delivery(clinic, status)
    ben = clinic.users["ben"]
    with pytest.raises(services.NotOnTheList):
        services.delivery_send_again(ben, delivery.pk)
    with pytest.raises(services.NotOnTheList):
        services.delivery_mark_handled(ben, delivery.pk, "phoned")
    delivery.refresh_from_db()
    assert delivery.status == status and delivery.resend_by is None
    assert not AuditEvent.objects.filter(action=Action.UPDATE).exists()


def test_a_claim_whose_worker_may_still_be_sending_is_left_alone_until_it_is_stale(
    clinic: Clinic, settings: Any
) -> None:
    now = timezone.now()
    fresh = _delivery(clinic, DeliveryStatus.CLAIMED, key="fresh", claimed_at=now)
    stale_at = now - timedelta(seconds=settings.REMINDERS_UNCONFIRMED_AFTER_SECONDS + 60)
    stale = _delivery(clinic, DeliveryStatus.CLAIMED, key="stale", claimed_at=stale_at)
    ben = clinic.users["ben"]
    with pytest.raises(services.NotOnTheList):
        services.delivery_mark_handled(ben, fresh.pk, "phoned", now=now)
    services.delivery_mark_handled(ben, stale.pk, "  phoned; she had it  ", now=now)
    stale.refresh_from_db()
    assert (stale.status, stale.handled_by, stale.handled_note) == (
        DeliveryStatus.HANDLED,
        ben,
        "phoned; she had it",
    )


def test_two_people_acting_at_once_one_wins(clinic: Clinic) -> None:
    delivery = _delivery(clinic, DeliveryStatus.UNCONFIRMED)
    services.delivery_mark_handled(clinic.users["ben"], delivery.pk, "phoned")
    with pytest.raises(services.NotOnTheList):
        services.delivery_send_again(clinic.users["ada"], delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.HANDLED and delivery.resend_by is None


def test_the_pages_act_refuse_an_empty_note_and_say_when_a_row_is_gone(clinic: Clinic) -> None:
    delivery = _delivery(clinic, DeliveryStatus.FAILED, error="HTTP 400")
    nurse = clinic.client("ben")
    page = nurse.get("/reminders/attention/").content.decode()
    assert f"/reminders/attention/{delivery.pk}/send-again/" in page
    refused = nurse.post(f"/reminders/attention/{delivery.pk}/handled/", {"note": " "})
    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    done = nurse.post(f"/reminders/attention/{delivery.pk}/handled/", {"note": "phoned"})
    assert done.status_code == 302
    again = nurse.post(f"/reminders/attention/{delivery.pk}/send-again/", follow=True)
    assert "no longer on the list" in again.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.HANDLED


def test_each_role_that_sees_the_list_may_act_and_the_others_may_not(clinic: Clinic) -> None:
    """`patient.change` (accounts/roles.py) is held by every role that may list the patients'
    reminders; a therapist and a patient can neither list nor act."""
    user_create(
        acting_user=None, username="tess", role=Role.THERAPIST, password="x" * 16, validate=False
    )
    delivery = _delivery(clinic, DeliveryStatus.FAILED)
    for name in ("ada", "ben", "cleo", "dana"):
        client = clinic.client(name)
        assert "Send again" in client.get("/reminders/attention/").content.decode(), name
        assert client.post(f"/reminders/attention/{delivery.pk}/send-again/").status_code == 302
        delivery.refresh_from_db()
        assert (delivery.status, delivery.resend_by) == (
            DeliveryStatus.RETRY,
            clinic.users[name],
        )
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    therapist = Client()
    therapist.force_login(User.objects.get(username="tess"))
    for client in (therapist, clinic.client("pat")):
        assert client.get("/reminders/attention/").status_code == 403
        for action in ("send-again", "handled"):
            url = f"/reminders/attention/{delivery.pk}/{action}/"
            assert client.post(url, {"note": "x"}).status_code in (403, 404)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
