"""The issue's acceptance, end to end: a PHQ-9 with item 9 = 1 and a total of 3, keyed in
through the staff form, opens a flag that appears in the banner, the flags API and the FHIR
Flag search, and a notification e-mail reaches a real SMTP server (aiosmtpd) started here,
through Django's SMTP backend. The e-mail says a flag needs review and where; it carries no
patient name, MRN, instrument or answer."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from django.test import override_settings

from ketaclinic.patients.models import SafetyFlag
from ketaclinic.scales import instruments
from ketaclinic.scales.models import Administration
from ketaclinic.scales.services import EMAIL_SUBJECT
from ketaclinic.testing import Clinic

from .test_web_entry import enter_url, form_data, when

# PHQ-9 with item 9 answered "several days" and a total of 3.
PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}


@dataclass
class Received:
    """The envelopes the SMTP server accepted, as (recipients, parsed message)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Received, int]]:
    """A real SMTP server on 127.0.0.1 at a free port, for this test only."""
    received = Received()
    port = _free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


def test_phq9_item_9_flag_shows_everywhere_and_mails_the_clinician_over_smtp(
    clinic: Clinic,
    smtp_server: tuple[Received, int],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    received, port = smtp_server
    ada = clinic.users["ada"]
    ada.email = "ada@clinic.example"
    ada.save(update_fields=["email"])
    phq9 = instruments.get("phq9")

    smtp = override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=10,
    )
    # The mail goes after commit: run the callbacks as the commit would.
    with smtp, django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = clinic.client("ben").post(
            enter_url(clinic, "phq9"), form_data(phq9, PHQ9_ITEM9, administered_at=when())
        )
    assert response.status_code == 302, response.content[:500]
    assert len(callbacks) == 1
    administration = Administration.objects.get(patient=clinic.pat)
    assert (administration.total, administration.answers["9"]) == (3, 1)
    flag = SafetyFlag.objects.get(patient=clinic.pat)

    # The banner of the patient's record.
    page = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    start = page.index('class="patient-banner"')
    assert "Suicide risk (PHQ-9 item 9)" in page[start : page.index("</section>", start)]

    # The flags API.
    api = clinic.api("ada").get(f"/api/v1/patients/{clinic.pat.pk}/flags")
    assert api.status_code == 200
    assert [(row["id"], row["code"], row["status"]) for row in api.json()] == [
        (flag.pk, "suicide_risk", "active")
    ]

    # FHIR Flag.
    fhir = clinic.api("ada").get(f"/fhir/R4/Flag?patient={clinic.pat.pk}&status=active")
    assert fhir.status_code == 200
    bundle = fhir.json()
    assert [entry["resource"]["id"] for entry in bundle["entry"]] == [str(flag.pk)]
    assert bundle["entry"][0]["resource"]["status"] == "active"

    # The e-mail, as the SMTP server received it: to the clinician, nothing clinical.
    assert len(received.messages) == 1
    recipients, message = received.messages[0]
    assert recipients == ["ada@clinic.example"]
    assert message["To"] == "ada@clinic.example"
    subject = str(message["Subject"])
    assert subject == EMAIL_SUBJECT
    body_part = message.get_body(preferencelist=("plain",))
    assert body_part is not None
    body = body_part.get_content()
    assert f"/patients/{clinic.pat.pk}/" in body  # where to look, after signing in
    patient = clinic.pat
    for secret in (patient.given_name, patient.family_name, patient.mrn, patient.email):
        assert secret not in subject and secret not in body
    for clinical in ("phq", "item 9", "suicid", "self-harm", "total", "answer"):
        assert clinical not in subject.lower() and clinical not in body.lower()
    for item in phq9.items:
        assert item.text is not None and item.text not in body
