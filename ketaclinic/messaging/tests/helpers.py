"""Small builders for the messaging tests (synthetic files and threads)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from ketaclinic.messaging.models import Thread
from ketaclinic.messaging.services.threads import message_reply, thread_start
from ketaclinic.testing import Clinic

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name: str = "results.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def thread_of(
    c: Clinic, who: str = "pat", body: str = "Can I move my session?", subject: str = "Booking"
) -> Thread:
    return thread_start(
        acting_user=c.users[who],
        subject=subject,
        body=body,
        inbox_link="http://testserver/messages/",
    ).thread


def staff_reply(c: Clinic, thread: Thread, who: str = "ben", body: str = "Yes, of course.") -> None:
    message_reply(
        acting_user=c.users[who],
        thread_id=thread.pk,
        body=body,
        link="http://testserver/portal/messages/",
    )
