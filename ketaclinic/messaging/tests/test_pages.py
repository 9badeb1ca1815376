"""The portal's message pages and the staff inbox, through HTTP."""

from __future__ import annotations

from typing import Any

from django.core import mail

from ketaclinic.audit.models import AuditEvent
from ketaclinic.messaging.models import Attachment, Message, Thread
from ketaclinic.messaging.tests.helpers import PDF_BYTES, pdf, staff_reply, thread_of
from ketaclinic.testing import Clinic


def test_a_patient_writes_reads_a_reply_and_answers_with_a_file(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    pat = clinic.client("pat")
    assert pat.get("/portal/messages/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sent = pat.post("/portal/messages/new/", {"subject": "Parking", "body": "Where do I park?"})
    thread = Thread.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/portal/messages/{thread.pk}/"
    staff_reply(clinic, thread, body="Behind the building, bay 3.")
    listing = pat.get("/portal/messages/").content.decode()
    assert "Parking" in listing and "1 new" in listing
    home = pat.get("/portal/").content.decode()
    assert 'class="msg-badge">1<' in home  # the Messages tab's badge
    page = pat.get(f"/portal/messages/{thread.pk}/").content.decode()
    assert "Behind the building, bay 3." in page and "crisis" not in page
    assert 'class="msg-badge"' not in pat.get("/portal/messages/").content.decode()  # read
    answer = pat.post(
        f"/portal/messages/{thread.pk}/",
        {"body": "Thanks, my letter attached", "attachment": pdf()},
    )
    assert answer.status_code == 302
    attachment = Attachment.objects.get()
    download = pat.get(f"/portal/messages/attachments/{attachment.pk}/")
    assert download.status_code == 200 and download.content == PDF_BYTES
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="results.pdf"'
    assert download["Cache-Control"] == "no-store, private"


def test_a_bad_file_answers_422_with_a_clear_error_and_saves_nothing(clinic: Clinic) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    pat = clinic.client("pat")
    fake = SimpleUploadedFile("invoice.pdf", b"#!/bin/sh\nrm -rf /", "application/pdf")
    answer = pat.post("/portal/messages/new/", {"subject": "x", "body": "y", "attachment": fake})
    assert answer.status_code == 422
    assert "is not a PDF, PNG or JPEG file" in answer.content.decode()
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_an_urgent_message_shows_the_crisis_notice_at_once(clinic: Clinic) -> None:
    pat = clinic.client("pat")
    answer = pat.post(
        "/portal/messages/new/",
        {"subject": "Hard week", "body": "Honestly I want to die some days"},
        follow=True,
    )
    page = answer.content.decode()
    assert 'href="tel:988"' in page and 'href="tel:911"' in page
    assert "crisis-urgent" in page and "site.css" in page
    inbox = clinic.client("ben").get("/messages/").content.decode()
    assert "Urgent" in inbox and "Hard week" in inbox
    record = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "Urgent words in a patient" in record  # the record's flag banner


def test_the_staff_inbox_filters_and_shows_unread_counts_and_the_nav_badge(clinic: Clinic) -> None:
    first = thread_of(clinic, subject="Parking")
    thread_of(clinic, who="quinn", subject="Invoice")
    ben = clinic.client("ben")
    page = ben.get("/messages/").content.decode()
    assert "Parking" in page and "Invoice" in page and "1 unread" in page
    assert 'class="kc-nav-badge">2<' in page
    assert "Invoice" not in ben.get("/messages/?show=mine").content.decode()
    ben.post(f"/messages/threads/{first.pk}/assign/", {"assignee": clinic.users["ben"].pk})
    mine = ben.get("/messages/?show=mine").content.decode()
    assert "Parking" in mine and "Invoice" not in mine
    assert "Parking" not in ben.get("/messages/?show=unassigned").content.decode()
    ben.get(f"/messages/threads/{first.pk}/")
    assert 'class="kc-nav-badge">1<' in ben.get("/messages/").content.decode()
    # Ada's read state is her own.
    assert 'class="kc-nav-badge">2<' in clinic.client("ada").get("/messages/").content.decode()


def test_staff_reply_from_the_thread_page_and_the_patient_is_told(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    thread = thread_of(clinic)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = clinic.client("ben").post(
            f"/messages/threads/{thread.pk}/", {"body": "We moved it to Friday 10:00."}
        )
    assert answer.status_code == 302
    (notice,) = mail.outbox
    assert "Friday" not in notice.body and "/portal/messages/" in notice.body


def test_the_patients_staff_page_links_their_threads(clinic: Clinic) -> None:
    thread_of(clinic, subject="Parking")
    thread_of(clinic, who="quinn", subject="Invoice")
    ada = clinic.client("ada")
    record = ada.get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert f'href="/messages/patients/{clinic.pat.pk}/"' in record
    listing = ada.get(f"/messages/patients/{clinic.pat.pk}/").content.decode()
    assert "Parking" in listing and "Invoice" not in listing


def test_a_nurse_writes_first_and_the_patient_reads_and_answers(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    ben = clinic.client("ben")
    page = ben.get(f"/messages/patients/{clinic.pat.pk}/").content.decode()
    assert f'href="/messages/patients/{clinic.pat.pk}/new/"' in page
    empty = ben.post(f"/messages/patients/{clinic.pat.pk}/new/", {"subject": "", "body": ""})
    assert empty.status_code == 422 and not Thread.objects.exists()  # nothing half-saved
    with django_capture_on_commit_callbacks(execute=True):
        sent = ben.post(
            f"/messages/patients/{clinic.pat.pk}/new/",
            {"subject": "Your blood pressure", "body": "Please bring your home readings."},
        )
    thread = Thread.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/messages/threads/{thread.pk}/"
    assert thread.patient_id == clinic.pat.pk
    (only,) = Message.objects.filter(thread=thread)
    assert not only.from_patient
    (notice,) = mail.outbox  # told by e-mail, without the subject or the text
    assert "blood pressure" not in str(notice.body) + str(notice.subject)
    assert "home readings" not in notice.body
    assert AuditEvent.objects.filter(object_type="MessageThread", object_id=str(thread.pk)).exists()
    pat = clinic.client("pat")
    assert "home readings" in pat.get(f"/portal/messages/{thread.pk}/").content.decode()
    pat.post(f"/portal/messages/{thread.pk}/", {"body": "I will bring them."})
    assert Message.objects.filter(thread=thread, from_patient=True).count() == 1


def test_no_patient_data_in_the_urls_of_the_pages(clinic: Clinic) -> None:
    thread = thread_of(clinic, subject="Parking")
    for url in (f"/portal/messages/{thread.pk}/", f"/messages/threads/{thread.pk}/"):
        for mark in (clinic.pat.given_name, clinic.pat.family_name, clinic.pat.mrn, "Parking"):
            assert mark not in url


def test_a_patient_never_opens_the_staff_message_pages(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    pat = clinic.client("pat")
    assert pat.get("/messages/").status_code == 403
    assert pat.get(f"/messages/threads/{thread.pk}/").status_code == 404
    assert pat.post(f"/messages/threads/{thread.pk}/", {"body": "x"}).status_code == 404
    assert pat.get("/messages/urgent-words/").status_code == 403
    assert Message.objects.count() == 1


def test_reading_a_thread_page_is_audited(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    clinic.client("cleo").get(f"/messages/threads/{thread.pk}/")
    assert AuditEvent.objects.filter(
        actor=clinic.users["cleo"], object_type="MessageThread", action="R"
    ).exists()


def test_the_administrator_edits_the_urgent_words(clinic: Clinic) -> None:
    dana = clinic.client("dana")
    page = dana.get("/messages/urgent-words/").content.decode()
    assert "no puedo respirar" in page and "Joint Commission" in page
    saved = dana.post(
        "/messages/urgent-words/",
        {"phrases": "chest pain\nsuicide", "reason": "Shorter (synthetic)"},
    )
    assert saved.status_code == 302
    assert "Version 2" in dana.get("/messages/urgent-words/").content.decode()
    assert clinic.client("ada").get("/messages/urgent-words/").status_code == 403
