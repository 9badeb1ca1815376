"""Threads, replies, read state, assignment, urgent words and the notices, through the
services (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.messaging import selectors
from ketaclinic.messaging.models import Attachment, Message, Thread
from ketaclinic.messaging.selectors import InboxView
from ketaclinic.messaging.services.threads import (
    URGENT_FLAG_CODE,
    message_reply,
    thread_assign,
    thread_mark_read,
    thread_start,
    thread_urgent_clear,
)
from ketaclinic.messaging.services.words import urgent_words_current, urgent_words_publish
from ketaclinic.messaging.tests.helpers import PDF_BYTES, pdf, png, staff_reply, thread_of
from ketaclinic.patients.models import SafetyFlag
from ketaclinic.scales.models import Notification
from ketaclinic.testing import Clinic

CONTENT = "my results from the hospital about my liver"


def test_a_patient_starts_a_thread_and_the_clinic_gets_a_notice_without_content(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sent = thread_start(
            acting_user=clinic.users["pat"],
            subject="Liver results",
            body=CONTENT,
            files=[pdf()],
            inbox_link="http://testserver/messages/",
        )
    assert sent.thread.patient_id == clinic.pat.pk and not sent.urgent
    assert [a.filename for a in sent.message.attachments.all()] == ["results.pdf"]
    assert bytes(Attachment.objects.get().data) == PDF_BYTES
    (notice,) = mail.outbox
    assert notice.to == ["hello@clinic.example"]
    text = f"{notice.subject} {notice.body}"
    for secret in ("Liver", "liver", "results", clinic.pat.given_name, clinic.pat.family_name):
        assert secret not in text
    assert "http://testserver/messages/" in notice.body
    kinds = set(AuditEvent.objects.values_list("object_type", "action"))
    assert {("MessageThread", "C"), ("Message", "C"), ("MessageAttachment", "C")} <= kinds
    assert audit_verify() is None


def test_a_staff_reply_tells_the_patient_by_email_without_text_or_subject(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    thread = thread_of(clinic, subject="Ketamine and my sertraline")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        staff_reply(clinic, thread, body="Keep taking sertraline at the same dose.")
    (notice,) = mail.outbox
    assert notice.to == [clinic.pat.email]
    assert "You have a new message from KetaClinic Demo Clinic." in notice.body
    assert "Sign in to read it: http://testserver/portal/messages/" in notice.body
    for secret in ("sertraline", "Ketamine", "dose"):
        assert secret not in f"{notice.subject} {notice.body}"


def test_read_state_is_per_user_and_counts_the_other_sides_messages(clinic: Clinic) -> None:
    pat, ben, ada = (clinic.users[u] for u in ("pat", "ben", "ada"))
    thread = thread_of(clinic)
    message_reply(acting_user=pat, thread_id=thread.pk, body="And a second thing.", link="x")
    assert selectors.unread_total(ben) == 2 and selectors.unread_total(ada) == 2
    assert selectors.unread_total(pat) == 0  # their own messages
    page = selectors.thread_for_user(ben, thread.pk)
    thread_mark_read(acting_user=ben, thread=page.thread)
    assert selectors.unread_total(ben) == 0 and selectors.unread_total(ada) == 2
    staff_reply(clinic, thread)
    assert selectors.unread_total(pat) == 1
    (row,) = selectors.own_threads(pat)
    assert row.unread == 1
    assert selectors.unread_total(clinic.users["quinn"]) == 0


def test_a_patient_cannot_reply_on_another_patients_thread(clinic: Clinic) -> None:
    quinns = thread_of(clinic, who="quinn")
    with pytest.raises(Thread.DoesNotExist):
        message_reply(acting_user=clinic.users["pat"], thread_id=quinns.pk, body="hi", link="x")
    with pytest.raises(Thread.DoesNotExist):
        selectors.thread_for_user(clinic.users["pat"], quinns.pk)
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("upload", "why"),
    [
        (SimpleUploadedFile("virus.pdf", b"MZ\x90\x00binary", "application/pdf"), "not a PDF"),
        (SimpleUploadedFile("empty.png", b"", "image/png"), "empty"),
        (SimpleUploadedFile("page.html", b"<html>hi</html>", "text/html"), "not a PDF"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_saved(
    clinic: Clinic, upload: SimpleUploadedFile, why: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        thread_start(
            acting_user=clinic.users["pat"],
            subject="Results",
            body="Here they are",
            files=[pdf(), upload],
            inbox_link="x",
        )
    assert why in refused.value.message_dict["attachment"][0]
    assert not Thread.objects.exists() and not Message.objects.exists()
    assert not Attachment.objects.exists()


@override_settings(KETACLINIC_MESSAGE_ATTACHMENT_MAX_BYTES=100)
def test_a_file_over_the_size_limit_is_refused(clinic: Clinic) -> None:
    big = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 200, "image/png")
    thread = thread_of(clinic)
    with pytest.raises(ValidationError, match="too large"):
        message_reply(
            acting_user=clinic.users["pat"], thread_id=thread.pk, body="x", files=[big], link="x"
        )
    assert Message.objects.count() == 1 and not Attachment.objects.exists()


def test_the_type_comes_from_the_bytes_not_the_name(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    message_reply(
        acting_user=clinic.users["ben"],
        thread_id=thread.pk,
        body="The leaflet",
        files=[png("../leaflet.pdf")],
        link="x",
    )
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.content_type) == ("leaflet.png", "image/png")


def test_urgent_words_flag_the_thread_and_the_patient_and_tell_the_clinicians(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    quiet = thread_of(clinic, subject="Parking")
    with django_capture_on_commit_callbacks(execute=True):
        sent = thread_start(
            acting_user=clinic.users["pat"],
            subject="Tonight",
            body="Since the infusion I can\u2019t breathe properly and I have chest pain",
            inbox_link="x",
        )
    assert sent.urgent and sent.thread.urgent
    assert sent.message.urgent_phrases == ["can't breathe", "chest pain"]
    flag = SafetyFlag.objects.get(patient=clinic.pat, code=URGENT_FLAG_CODE)
    assert (flag.source_object_type, flag.source_object_id) == ("Message", str(sent.message.pk))
    assert Notification.objects.filter(user=clinic.users["ada"]).exists()
    assert any("urgent" in m.subject for m in mail.outbox)
    rows = selectors.inbox(clinic.users["ben"], InboxView.ALL)
    assert [r.pk for r in rows] == [sent.thread.pk, quiet.pk]  # urgent first, though older
    assert [r.pk for r in selectors.inbox(clinic.users["ben"], InboxView.URGENT)] == [
        sent.thread.pk
    ]
    # A second urgent message adds no second flag; staff clear the thread (audited).
    message_reply(
        acting_user=clinic.users["pat"], thread_id=sent.thread.pk, body="suicide", link="x"
    )
    assert SafetyFlag.objects.filter(code=URGENT_FLAG_CODE).count() == 1
    thread_urgent_clear(acting_user=clinic.users["ben"], thread_id=sent.thread.pk)
    assert not Thread.objects.get(pk=sent.thread.pk).urgent
    assert SafetyFlag.objects.filter(code=URGENT_FLAG_CODE, status="active").count() == 1


def test_a_staff_message_with_urgent_words_flags_nothing(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    staff_reply(clinic, thread, body="If you ever have chest pain, call 911.")
    assert not Thread.objects.get(pk=thread.pk).urgent
    assert not SafetyFlag.objects.exists()


def test_assignment_is_audited_and_filters_the_inbox(clinic: Clinic) -> None:
    ben, eve_like = clinic.users["ben"], clinic.users["cleo"]
    mine, other = thread_of(clinic), thread_of(clinic, who="quinn")
    thread_assign(acting_user=eve_like, thread_id=mine.pk, assignee_id=ben.pk)
    assert [t.pk for t in selectors.inbox(ben, InboxView.MINE)] == [mine.pk]
    assert [t.pk for t in selectors.inbox(ben, InboxView.UNASSIGNED)] == [other.pk]
    assert AuditEvent.objects.filter(
        object_type="MessageThread", object_id=str(mine.pk), action="U"
    ).exists()
    with pytest.raises(ValidationError):
        thread_assign(acting_user=ben, thread_id=mine.pk, assignee_id=clinic.users["pat"].pk)
    with pytest.raises(PermissionDenied):
        thread_assign(acting_user=clinic.users["pat"], thread_id=mine.pk, assignee_id=None)
    thread_assign(acting_user=ben, thread_id=mine.pk, assignee_id=None)
    assert Thread.objects.get(pk=mine.pk).assigned_to is None


def test_every_read_is_audited(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    message_reply(
        acting_user=clinic.users["ben"], thread_id=thread.pk, body="x", files=[pdf()], link="x"
    )
    before = AuditEvent.objects.filter(action="R").count()
    page = selectors.thread_for_user(clinic.users["ada"], thread.pk)
    attachment = page.messages[1].attachments.get()
    selectors.attachment_for_user(clinic.users["pat"], attachment.pk)
    reads = AuditEvent.objects.filter(action="R").order_by("seq")[before:]
    ada, pat = clinic.users["ada"].pk, clinic.users["pat"].pk
    assert [(e.object_type, e.actor_id) for e in reads] == [
        ("MessageThread", ada),
        ("Message", ada),
        ("Message", ada),
        ("MessageAttachment", pat),
    ]
    with pytest.raises(Attachment.DoesNotExist):
        selectors.attachment_for_user(clinic.users["quinn"], attachment.pk)


def test_the_administrator_publishes_a_new_word_list(clinic: Clinic) -> None:
    assert urgent_words_current().version == 1
    row = urgent_words_publish(
        acting_user=clinic.users["dana"],
        phrases=["chest pain", "  going to jump "],
        reason="Added after a near miss (synthetic).",
    )
    assert row.version == 2 and urgent_words_current().phrases == ("chest pain", "going to jump")
    sent = thread_start(
        acting_user=clinic.users["pat"], subject="x", body="I'm going to jump", inbox_link="x"
    )
    assert sent.urgent and sent.message.urgent_words_version == 2
    with pytest.raises(PermissionDenied):
        urgent_words_publish(acting_user=clinic.users["ada"], phrases=["x"], reason="y")
    with pytest.raises(ValidationError):
        urgent_words_publish(acting_user=clinic.users["dana"], phrases=[""], reason="y")


def test_the_thread_page_never_loads_the_files_bytes(clinic: Clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    thread = thread_of(clinic)
    message_reply(
        acting_user=clinic.users["ben"], thread_id=thread.pk, body="x", files=[pdf()], link="x"
    )
    with CaptureQueriesContext(connection) as queries:
        page = selectors.thread_for_user(clinic.users["ada"], thread.pk)
        names = [a.filename for m in page.messages for a in m.attachments.all()]
    assert names == ["results.pdf"]
    attachment_reads = [q["sql"] for q in queries if "messaging_attachment" in q["sql"]]
    assert attachment_reads and all('"data"' not in sql for sql in attachment_reads)
