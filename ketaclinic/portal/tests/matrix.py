"""Builders for the portal's rows of the URL role matrix (tests/test_url_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.scales.models import RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic


def ride_url(c: Clinic) -> str:
    session = session_make(c, start=timezone.now() + timedelta(days=1))
    return f"/portal/sessions/{session.pk}/ride/"


def due_questionnaire_url(c: Clinic) -> str:
    schedule_create(
        acting_user=c.users["ada"],
        patient=c.pat,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    return "/portal/questionnaires/gad7/"


def message_thread_url(c: Clinic) -> str:
    from ketaclinic.messaging.tests.helpers import thread_of

    return f"/portal/messages/{thread_of(c).pk}/"


def message_attachment_url(c: Clinic) -> str:
    from ketaclinic.messaging.services.threads import message_reply
    from ketaclinic.messaging.tests.helpers import pdf, thread_of

    sent = message_reply(
        acting_user=c.users["ben"], thread_id=thread_of(c).pk, body="x", files=[pdf()], link="x"
    )
    return f"/portal/messages/attachments/{sent.message.attachments.get().pk}/"


def staff_thread_url(c: Clinic, tail: str = "") -> str:
    from ketaclinic.messaging.tests.helpers import thread_of

    return f"/messages/threads/{thread_of(c).pk}/{tail}"


def staff_attachment_url(c: Clinic) -> str:
    return message_attachment_url(c).replace("/portal/messages/", "/messages/")
