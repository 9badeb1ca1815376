"""The channels on their own: e-mail over a real SMTP server (aiosmtpd), the HTTP SMS adapter
against the fake provider, the console backend's log (no number, no words), and how each
says a try ended (accepted, refused for now, refused for good, unknown)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ketaclinic.reminders.channels import NotAccepted, Outgoing, Unconfirmed, backend_for
from ketaclinic.reminders.channels.sms import ConsoleSMSBackend, FileSMSBackend
from ketaclinic.reminders.tests.fakes import (
    basic_auth,
    fake_sms_provider,
    free_port,
    smtp_server,
    text_of,
)
from ketaclinic.reminders.tests.helpers import SENDER, SID, TOKEN, use_fake_provider

MESSAGE = Outgoing(to="555-0100", subject="", body="You have a questionnaire to fill in.")
EMAIL = Outgoing(to="pat@example.org", subject="A questionnaire", body="You have one.\n")


def _smtp(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_TIMEOUT = 5


def test_email_goes_over_smtp(settings: Any) -> None:
    with smtp_server() as (inbox, port):
        _smtp(settings, port)
        ref = backend_for("email").send(EMAIL)
        (received,) = inbox.to("pat@example.org")
    assert received["Message-ID"] == ref
    assert received["Subject"] == "A questionnaire"
    assert text_of(received).replace("\r\n", "\n") == "You have one.\n"


@pytest.mark.parametrize(("reply", "permanent"), [("451 busy", False), ("550 no such", True)])
def test_an_smtp_refusal_says_whether_to_try_again(
    settings: Any, reply: str, permanent: bool
) -> None:
    with smtp_server() as (inbox, port):
        _smtp(settings, port)
        inbox.reply = reply
        with pytest.raises(NotAccepted) as refused:
            backend_for("email").send(EMAIL)
    assert refused.value.permanent is permanent
    assert refused.value.reason.startswith(f"SMTP {reply[:3]}")


def test_an_smtp_server_that_is_not_there_is_tried_again(settings: Any) -> None:
    _smtp(settings, free_port())
    with pytest.raises(NotAccepted) as refused:
        backend_for("email").send(EMAIL)
    assert refused.value.permanent is False


def test_the_http_adapter_posts_the_providers_form(settings: Any) -> None:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        ref = backend_for("sms").send(MESSAGE)
    (request,) = provider.requests
    assert ref.startswith("SM")
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.auth == basic_auth(SID, TOKEN)
    assert request.form == {"To": "555-0100", "From": SENDER, "Body": MESSAGE.body}


@pytest.mark.parametrize(
    ("status", "permanent"), [(429, False), (500, False), (503, False), (400, True), (401, True)]
)
def test_the_providers_error_answers(settings: Any, status: int, permanent: bool) -> None:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        provider.fail_next = [status]
        with pytest.raises(NotAccepted) as refused:
            backend_for("sms").send(MESSAGE)
    assert (refused.value.reason, refused.value.permanent) == (f"HTTP {status}", permanent)
    assert not provider.requests


def test_a_provider_that_is_down_is_tried_again(settings: Any) -> None:
    settings.REMINDERS_SMS_BACKEND = "ketaclinic.reminders.channels.sms.HttpSMSBackend"
    settings.REMINDERS_SMS_BASE_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotAccepted) as refused:
        backend_for("sms").send(MESSAGE)
    assert refused.value.permanent is False


def test_a_provider_that_answers_too_late_is_unconfirmed(settings: Any) -> None:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        settings.REMINDERS_SMS_TIMEOUT = 1
        provider.delay = 1.5
        with pytest.raises(Unconfirmed):
            backend_for("sms").send(MESSAGE)
    assert len(provider.requests) == 1  # it did get there: hence never resent


def test_the_console_backend_logs_no_number_and_no_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="ketaclinic.reminders"):
        ref = ConsoleSMSBackend().send(MESSAGE)
    assert ref in caplog.text
    assert "555-0100" not in caplog.text
    assert "questionnaire" not in caplog.text


def test_the_file_backend_writes_under_its_folder(settings: Any, tmp_path: Any) -> None:
    settings.REMINDERS_SMS_FILE_PATH = tmp_path / "sms"
    ref = FileSMSBackend().send(MESSAGE)
    (written,) = (tmp_path / "sms").iterdir()
    assert ref in written.name
    assert written.read_text(encoding="utf-8") == f"To: 555-0100\n\n{MESSAGE.body}\n"
