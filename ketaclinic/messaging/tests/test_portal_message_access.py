"""Every portal message URL with another patient's ids answers 404, exactly as an id that
does not exist, and stores nothing; staff get 403 on the patient's message pages."""

from __future__ import annotations

import uuid

from ketaclinic.messaging.models import Message
from ketaclinic.messaging.services.threads import message_reply
from ketaclinic.messaging.tests.helpers import pdf, thread_of
from ketaclinic.testing import Clinic


def test_another_patients_thread_and_attachment_answer_404_like_missing_ones(
    clinic: Clinic,
) -> None:
    quinns = thread_of(clinic, who="quinn", subject="Quinn's own subject")
    sent = message_reply(
        acting_user=clinic.users["quinn"], thread_id=quinns.pk, body="x", files=[pdf()], link="x"
    )
    attachment_id = sent.message.attachments.get().pk
    thread_of(clinic)  # Pat's own
    pat = clinic.client("pat")
    count = Message.objects.count()
    for thread_id in (quinns.pk, uuid.uuid4()):
        url = f"/portal/messages/{thread_id}/"
        assert pat.get(url).status_code == 404
        assert pat.post(url, {"body": "intruding"}).status_code == 404
    for file_id in (attachment_id, uuid.uuid4()):
        assert pat.get(f"/portal/messages/attachments/{file_id}/").status_code == 404
    assert Message.objects.count() == count
    listing = pat.get("/portal/messages/").content.decode()
    assert str(quinns.pk) not in listing and "Quinn's own subject" not in listing
    quinn = clinic.client("quinn")
    assert quinn.get(f"/portal/messages/{quinns.pk}/").status_code == 200
    assert quinn.get(f"/portal/messages/attachments/{attachment_id}/").status_code == 200


def test_staff_get_403_on_the_patients_message_pages(clinic: Clinic) -> None:
    thread = thread_of(clinic)
    for who in ("ada", "ben", "cleo", "dana"):
        client = clinic.client(who)
        for url in ("/portal/messages/", "/portal/messages/new/", f"/portal/messages/{thread.pk}/"):
            assert client.get(url).status_code == 403, (who, url)
        assert client.post(f"/portal/messages/{thread.pk}/", {"body": "x"}).status_code == 403
    assert Message.objects.count() == 1
