"""Synthetic message threads for the demo clinic (``ketaclinic demo``): one answered by a
nurse and not yet read by the patient, one waiting for the care team, one urgent. Written
through the services, so the audit trail and the safety flag are as in real use.
Idempotent: nothing is added when any thread exists."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.messaging.models import Thread
from ketaclinic.messaging.services.threads import message_reply, thread_assign, thread_start

INBOX = "http://127.0.0.1:8000/messages/"
PORTAL = "http://127.0.0.1:8000/portal/messages/"


def messages_ensure(*, nurse: User, intake: User) -> int:
    """The demo threads of the patient accounts ``pat`` and ``quinn``; how many were made."""
    if Thread.objects.exists():
        return 0
    pat = User.objects.filter(username="pat").first()
    quinn = User.objects.filter(username="quinn").first()
    if pat is None or quinn is None:
        return 0
    parking = thread_start(
        acting_user=pat,
        subject="Parking on my session day",
        body="Hello, where can my partner park while I am in the session? Thank you.",
        inbox_link=INBOX,
    ).thread
    message_reply(
        acting_user=nurse,
        thread_id=parking.pk,
        body=(
            "Hello! There is free parking behind the building, bays 1 to 6. Your partner can "
            "wait in the lounge; we will call them when you are ready to go home."
        ),
        link=PORTAL,
    )
    letter = thread_start(
        acting_user=pat,
        subject="A letter for my employer",
        body="Could the clinic write a short note that I need two mornings off a week?",
        inbox_link=INBOX,
    ).thread
    thread_assign(acting_user=intake, thread_id=letter.pk, assignee_id=intake.pk)
    thread_start(
        acting_user=quinn,
        subject="Since the last infusion",
        body=(
            "Since Tuesday I feel very low. Some nights I think I want to die. I did not "
            "know whether to call."
        ),
        inbox_link=INBOX,
    )
    return 3
