"""Inquiries from the public: the API and the HTML form store them, spam and floods are kept
out quietly, bad input answers 4xx with field paths, intake staff are told after commit, and
staff read them escaped and audited."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.intake.services import inquiries as services
from ketaclinic.testing import Clinic

INQUIRIES = "/api/v1/inquiries"
FORM = "/clinic/inquiry/"
VALID: dict[str, Any] = {
    "name": "Robin Asker",
    "email": "robin@example.org",
    "phone": "555-0142",
    "preferred_contact": "phone",
    "concerns": ["social_anxiety", "ocd"],
    "prior_treatments": "Sertraline 150 mg for 10 weeks; 12 sessions of CBT.",
    "message": "I would like to know whether I could be a candidate.",
    "heard_about": "My GP",
    "consent_to_contact": True,
}
HEALTH_WORDS = ("anxiety", "ocd", "sertraline", "cbt", "robin", "asker", "panic")


def _post(body: Any, *, client: Client | None = None, address: str = "127.0.0.1") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return (client or Client()).post(
        INQUIRIES, data=raw, content_type="application/json", REMOTE_ADDR=address
    )


def _problem_fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.content[:300]
    return {problem["field"] for problem in response.json()["detail"]}


@pytest.fixture
def intake_staff(clinic: Clinic) -> list[User]:
    """Cleo (intake) and a second intake coordinator have e-mail; others must not be mailed."""
    cleo = clinic.users["cleo"]
    cleo.email = "cleo@clinic.example"
    cleo.save(update_fields=["email"])
    other = User.objects.create_user(
        username="ines", role="intake", email="ines@clinic.example", password=None
    )
    for name in ("ada", "dana", "ben"):
        user = clinic.users[name]
        user.email = f"{name}@clinic.example"
        user.save(update_fields=["email"])
    return [cleo, other]


def test_inquiry_is_stored_and_answered_201(db: Any) -> None:
    response = _post(VALID)
    assert response.status_code == 201
    assert response.json()["received"] is True
    inquiry = Inquiry.objects.get()
    assert inquiry.name == "Robin Asker"
    assert inquiry.concerns == ["social_anxiety", "ocd"]
    assert inquiry.status == InquiryStatus.NEW
    assert inquiry.is_spam is False
    assert inquiry.client_address == "127.0.0.1"
    assert inquiry.consent_to_contact is True


def test_phone_only_inquiry_is_enough(db: Any) -> None:
    body = {"name": "Phone Only", "phone": "555-0100", "preferred_contact": "phone"}
    assert _post({**body, "consent_to_contact": True}).status_code == 201


def test_notification_goes_to_intake_staff_after_commit_without_health_details(
    intake_staff: list[User], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(VALID)
        assert response.status_code == 201
    # Stored first; nothing sent until the transaction has committed.
    assert Inquiry.objects.count() == 1
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["cleo@clinic.example", "ines@clinic.example"]
    inquiry = Inquiry.objects.get()
    assert message.subject == f"New inquiry #{inquiry.pk}"
    text = (message.subject + message.body).lower()
    for word in HEALTH_WORDS:
        assert word not in text, word
    assert "/intake/inquiries/" in message.body


def test_honeypot_answers_like_success_but_is_spam_and_sends_nothing(
    intake_staff: list[User], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        real = _post(VALID, address="10.0.0.1")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        spam = _post({**VALID, "website": "http://buy.example"}, address="10.0.0.2")
    assert spam.status_code == real.status_code == 201
    assert spam.json() == real.json()
    assert callbacks == []
    assert mail.outbox == []
    stored = Inquiry.objects.get(client_address="10.0.0.2")
    assert stored.is_spam is True


def test_sixth_inquiry_in_an_hour_from_one_address_is_429_and_not_stored(db: Any) -> None:
    for n in range(5):
        assert _post({**VALID, "name": f"Asker {n}"}, address="192.0.2.7").status_code == 201
    response = _post({**VALID, "name": "Asker 6"}, address="192.0.2.7")
    assert response.status_code == 429
    assert "detail" in response.json()
    assert Inquiry.objects.count() == 5
    assert not Inquiry.objects.filter(name="Asker 6").exists()
    # Another address is not affected.
    assert _post(VALID, address="192.0.2.8").status_code == 201


def test_rate_limit_counts_only_the_last_hour_and_reads_the_setting(db: Any, settings: Any) -> None:
    settings.KETACLINIC_INQUIRY_RATE_PER_HOUR = 2
    old = timezone.now() - timedelta(hours=1, minutes=1)
    for _ in range(3):
        Inquiry.objects.create(
            name="Old",
            email="o@example.org",
            consent_to_contact=True,
            client_address="192.0.2.9",
            created_at=old,
        )
    assert _post(VALID, address="192.0.2.9").status_code == 201
    assert _post(VALID, address="192.0.2.9").status_code == 201
    assert _post(VALID, address="192.0.2.9").status_code == 429


def test_spam_counts_toward_the_rate_limit(db: Any) -> None:
    for _ in range(5):
        assert _post({**VALID, "website": "x"}, address="192.0.2.10").status_code == 201
    assert _post(VALID, address="192.0.2.10").status_code == 429


def test_html_form_rate_limit_is_429_with_message(db: Any) -> None:
    form = {**VALID, "concerns": VALID["concerns"], "consent_to_contact": "on"}
    client = Client()
    for _ in range(5):
        assert client.post(FORM, form, REMOTE_ADDR="192.0.2.11").status_code == 302
    response = client.post(FORM, form, REMOTE_ADDR="192.0.2.11")
    assert response.status_code == 429
    assert "try again later" in response.content.decode()
    assert Inquiry.objects.count() == 5


def test_a_100_kb_message_is_422_with_its_field_path(db: Any) -> None:
    response = _post({**VALID, "message": "x" * 100_000})
    assert _problem_fields(response) == {"message"}
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "message"]
    assert len(response.content) < 2000  # described, not echoed
    assert Inquiry.objects.count() == 0


def test_a_100_kb_prior_treatments_is_422(db: Any) -> None:
    assert _problem_fields(_post({**VALID, "prior_treatments": "y" * 100_000})) == {
        "prior_treatments"
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00\x00garbage",
        b'{"name": "\xff\xfe", "email": "a@example.org", "consent_to_contact": true}',
        b"not json at all",
        b"",
        b"[1, 2, 3]",
        b'"just a string"',
        b"{" * 10_000,
    ],
)
def test_undecodable_or_non_json_body_is_4xx_not_500(db: Any, raw: bytes) -> None:
    response = _post(raw)
    assert response.status_code in {400, 415, 422}, (raw[:20], response.status_code)
    assert Inquiry.objects.count() == 0


def test_missing_contact_is_422(db: Any) -> None:
    body = {"name": "No Contact", "consent_to_contact": True}
    assert _problem_fields(_post(body)) == {"email"}
    assert Inquiry.objects.count() == 0


def test_preferred_contact_without_that_contact_is_422(db: Any) -> None:
    body = {**VALID, "phone": "", "preferred_contact": "phone"}
    assert _problem_fields(_post(body)) == {"preferred_contact"}


@pytest.mark.parametrize("consent", [False, "true", 1, None])
def test_consent_not_true_is_422(db: Any, consent: Any) -> None:
    assert _problem_fields(_post({**VALID, "consent_to_contact": consent})) == {
        "consent_to_contact"
    }
    assert Inquiry.objects.count() == 0


def test_missing_consent_is_422(db: Any) -> None:
    body = {key: value for key, value in VALID.items() if key != "consent_to_contact"}
    assert _problem_fields(_post(body)) == {"consent_to_contact"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"extra": "field"}, "extra"),
        ({"name": 42}, "name"),
        ({"name": ""}, "name"),
        ({"email": "not an address"}, "email"),
        ({"concerns": ["astrology"]}, "concerns.0"),
        ({"concerns": ["ocd", "ocd"]}, "concerns"),
        ({"concerns": "ocd"}, "concerns"),
        ({"preferred_contact": "pigeon"}, "preferred_contact"),
        ({"status": "eligible"}, "status"),
        ({"is_spam": False}, "is_spam"),
    ],
)
def test_bad_fields_are_422_with_field_paths(db: Any, change: dict[str, Any], field: str) -> None:
    assert _problem_fields(_post({**VALID, **change})) == {field}
    assert Inquiry.objects.count() == 0


def test_signed_in_callers_may_post_too(clinic: Clinic) -> None:
    assert _post(VALID, client=clinic.api("pat")).status_code == 201


def test_html_form_stores_inquiry_and_thanks(
    intake_staff: list[User], django_capture_on_commit_callbacks: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(FORM)
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    form = {**VALID, "consent_to_contact": "on", "csrfmiddlewaretoken": token}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FORM, form)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/inquiry/thanks/"
    inquiry = Inquiry.objects.get()
    assert inquiry.concerns == ["social_anxiety", "ocd"]
    assert inquiry.preferred_contact == "phone"
    assert len(mail.outbox) == 1


def test_html_form_without_csrf_token_is_refused(db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(FORM, {**VALID, "consent_to_contact": "on"})
    assert response.status_code == 403
    assert Inquiry.objects.count() == 0


def test_html_form_honeypot_is_spam_and_sends_nothing(
    intake_staff: list[User], django_capture_on_commit_callbacks: Any
) -> None:
    form = {**VALID, "consent_to_contact": "on", "website": "http://spam.example"}
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(FORM, form)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/inquiry/thanks/"
    assert Inquiry.objects.get().is_spam is True
    assert mail.outbox == []


def test_html_form_shows_errors_beside_fields(db: Any) -> None:
    response = Client().post(FORM, {"name": "No Contact", "message": "x" * 6000})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_consent_to_contact_errors"' in html
    assert 'id="id_message_errors"' in html
    assert Inquiry.objects.count() == 0
    response = Client().post(
        FORM, {"name": "No Contact", "preferred_contact": "email", "consent_to_contact": "on"}
    )
    assert 'id="id_email_errors"' in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_script_in_name_is_stored_and_shown_escaped_on_the_staff_list(clinic: Clinic) -> None:
    script = "<script>alert('x')</script>"
    body = {**VALID, "name": script, "message": f"hi {script}", "heard_about": script}
    assert _post(body).status_code == 201
    assert Inquiry.objects.get().name == script
    html = clinic.client("cleo").get("/intake/inquiries/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_staff_list_is_newest_first_without_spam_and_audits_each_inquiry(
    clinic: Clinic,
) -> None:
    for name in ("First Asker", "Second Asker"):
        assert _post({**VALID, "name": name}).status_code == 201
    assert _post({**VALID, "name": "Spammy", "website": "x"}).status_code == 201
    first, second = Inquiry.objects.filter(is_spam=False).order_by("created_at", "id")
    Inquiry.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    before = AuditEvent.objects.count()
    response = clinic.client("ada").get("/intake/inquiries/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Second Asker") < html.index("First Asker")
    assert "Spammy" not in html
    events = AuditEvent.objects.order_by("seq")[before:]
    assert [(e.action, e.object_type, e.object_id, e.patient_id) for e in events] == [
        (Action.READ, "Inquiry", str(second.pk), None),
        (Action.READ, "Inquiry", str(first.pk), None),
    ]
    assert all(e.actor_id == clinic.users["ada"].pk for e in events)


@pytest.mark.parametrize("username", ["ben", "pat"])
def test_staff_list_is_refused_to_nurses_and_patients(clinic: Clinic, username: str) -> None:
    assert _post(VALID).status_code == 201
    before = AuditEvent.objects.count()
    assert clinic.client(username).get("/intake/inquiries/").status_code == 403
    assert AuditEvent.objects.count() == before


def test_creating_an_inquiry_writes_no_patient_audit_event(db: Any) -> None:
    before = AuditEvent.objects.count()
    assert _post(VALID).status_code == 201
    assert AuditEvent.objects.count() == before


def test_notification_is_retried_then_logged_without_personal_data(
    intake_staff: list[User], caplog: pytest.LogCaptureFixture
) -> None:
    inquiry = services.inquiry_create(client_address="192.0.2.20", **VALID)
    waits: list[float] = []
    failing = mock.patch.object(services, "send_mail", side_effect=OSError("down robin@example"))
    with failing, caplog.at_level(logging.WARNING, logger="ketaclinic.intake.services"):
        sent = services.inquiry_notify(inquiry_id=inquiry.pk, sleep=waits.append)
    assert sent is False
    assert len(waits) == services.NOTIFY_ATTEMPTS - 1
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 3
    logged = caplog.text.lower()
    assert "robin" not in logged
    assert "example" not in logged
    assert "anxiety" not in logged


def test_notification_succeeds_on_a_retry(intake_staff: list[User]) -> None:
    inquiry = services.inquiry_create(client_address="192.0.2.21", **VALID)
    real_send = mail.send_mail
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("temporary")
        return real_send(*args, **kwargs)

    with mock.patch.object(services, "send_mail", side_effect=flaky):
        assert services.inquiry_notify(inquiry_id=inquiry.pk, sleep=lambda _: None) is True
    assert len(mail.outbox) == 1


def test_no_intake_staff_with_email_sends_nothing(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(VALID).status_code == 201
    assert mail.outbox == []


def test_staff_list_queries_do_not_grow_with_the_number_of_inquiries(
    clinic: Clinic, django_assert_max_num_queries: Any
) -> None:
    client = clinic.client("cleo")
    # Two to begin with: on PostgreSQL one audited read is one statement, several are two
    # (audit.services), the same for 2 or 200.
    services.inquiry_create(client_address="192.0.2.30", **VALID)
    services.inquiry_create(client_address="192.0.2.31", **VALID)
    client.get("/intake/inquiries/")  # warm the session and the audit chain head
    with CaptureQueriesContext(connection) as few:
        assert client.get("/intake/inquiries/").status_code == 200
    for n in range(20):
        Inquiry.objects.create(
            name=f"Asker {n}", email="a@example.org", consent_to_contact=True, concerns=["ocd"]
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/intake/inquiries/").status_code == 200
