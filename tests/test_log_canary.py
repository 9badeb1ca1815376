"""Issue 18 item 6: no patient data in any log record, nor on the server's output.

A canary patient ("Zyxcanary Qwertyleak") goes through the kinds of traffic the suite makes:
created by the API and the page form, an inquiry, an evaluation, vitals, scale answers, bad
requests (422, 400, 415), a forced 500 whose exception quotes the row (as PostgreSQL's error
context did), an e-mail reminder sent with the product's default mail backend and one the mail
server refuses. Every logger is captured at DEBUG by a handler on the root logger, with the
SQL log forced on as debug mode would turn it on; the canary must appear in no record's
message, arguments or exception text, nor on stdout/stderr. On main the SQL log carried the
parameters, Django's 500 log the exception's message, and the console mail backend printed the
reminder (name, address, appointment time) to stdout.
"""

from __future__ import annotations

import json
import logging
import smtplib
import traceback
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DataError, IntegrityError, connection
from django.test import Client, override_settings
from django.utils import timezone

import ketaclinic.settings as product_settings
from ketaclinic.courses.reminders import session_reminder_send
from ketaclinic.eligibility.tests.eligibility_helpers import ELIGIBLE_EVALUATION, post_json
from ketaclinic.infusions.tests.chart_driver import chart_for
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

GIVEN, FAMILY = "Zyxcanary", "Qwertyleak"
EMAIL = "zyxcanary.qwertyleak@example.org"
CANARIES = ("zyxcanary", "qwertyleak")


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _texts(record: logging.LogRecord) -> list[str]:
    texts = [str(record.msg), repr(record.args), record.exc_text or "", record.getMessage()]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append("".join(traceback.format_exception(*record.exc_info)))
    return texts


@pytest.fixture
def every_record() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    level = root.level
    # The root logger, and every logger whose records do not reach it (django.request).
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in loggers:
        logger.addHandler(handler)
    root.setLevel(logging.DEBUG)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True  # the SQL log, as KETACLINIC_DEBUG=1 turns it on
    try:
        yield handler
    finally:
        connection.force_debug_cursor = forced
        for logger in loggers:
            logger.removeHandler(handler)
        root.setLevel(level)


def _traffic(clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Patient:
    ada = clinic.api("ada")
    body = {
        "given_name": GIVEN,
        "family_name": FAMILY,
        "birth_date": "1990-01-31",
        "sex_at_birth": "female",
        "email": EMAIL,
        "address": f"1 {FAMILY} Lane",
    }
    created = post_json(ada, "/api/v1/patients", body)
    assert created.status_code == 201, created.content
    patient = Patient.objects.get(pk=created.json()["id"])
    page = clinic.client("ada").post("/patients/new/", body | {"email": "other@example.org"})
    assert page.status_code == 302

    inquiry = {"name": f"{GIVEN} {FAMILY}", "email": EMAIL, "consent_to_contact": True}
    inquiry |= {"message": f"{GIVEN} has panic attacks"}
    response = Client().post(
        "/api/v1/inquiries", json.dumps(inquiry), content_type="application/json"
    )
    assert response.status_code == 201, response.content

    evaluation = ELIGIBLE_EVALUATION | {"notes": f"{GIVEN} {FAMILY} felt calm"}
    response = post_json(ada, f"/api/v1/patients/{patient.pk}/evaluations", evaluation)
    assert response.status_code == 201, response.content

    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda s: [])
    chart = chart_for(clinic)
    chart.infusing()
    assert chart.vitals(systolic=190).status_code == 201

    answers: dict[str, Any] = {"instrument": "gad7", "mode": "staff_entry"}
    answers |= {"administered_at": timezone.now().isoformat()}
    answers |= {"answers": {str(i): 2 for i in range(1, 8)}}
    response = post_json(
        clinic.api("ben"), f"/api/v1/patients/{patient.pk}/administrations", answers
    )
    assert response.status_code == 201, response.content

    # Bad requests: a 422 with the canary beside the bad field, a 400 and a 415.
    response = post_json(ada, "/api/v1/patients", body | {"birth_date": "31/01/1990"})
    assert response.status_code == 422
    response = post_json(ada, "/api/v1/patients", body | {"family_name": f"{FAMILY}\x00"})
    assert response.status_code == 400
    response = ada.post("/api/v1/patients", json.dumps(body), content_type="text/plain")
    assert response.status_code == 415

    # A 500 whose exception quotes the row, as PostgreSQL's error context does (a not-null
    # violation; a DataError now answers 422 "out of range" in the API, commit 3fb18ec).
    def failing(**kwargs: Any) -> Patient:
        raise IntegrityError(
            f'null value in column "x" violates not-null constraint\n'
            f"DETAIL: Failing row contains ({GIVEN}, {FAMILY})"
        )

    monkeypatch.setattr("ketaclinic.patients.services.patient_create", failing)
    ada.raise_request_exception = False
    response = post_json(ada, "/api/v1/patients", body)
    assert response.status_code == 500, response.content
    page_client = clinic.client("ada")
    page_client.raise_request_exception = False
    assert page_client.post("/patients/new/", body).status_code == 500

    # The reminder, with the product's default mail backend; then one the server refuses.
    later = timezone.now() + timedelta(days=2)
    session = chart_for(clinic, start=later).session
    session.course.patient = patient
    session.course.save(update_fields=["patient"])
    with override_settings(
        EMAIL_BACKEND=product_settings.EMAIL_BACKEND,
        EMAIL_FILE_PATH=tmp_path / "mail",
    ):
        session_reminder_send(session.pk)

    def refused(*args: Any, **kwargs: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({EMAIL: (550, f"no mailbox for {GIVEN}".encode())})

    monkeypatch.setattr("ketaclinic.courses.reminders.send_mail", refused)
    session_reminder_send(session.pk)
    return patient


def test_no_canary_in_any_log_record_nor_on_the_output(
    clinic: Clinic,
    every_record: Everything,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    _traffic(clinic, tmp_path, monkeypatch)

    records = every_record.records
    # The SQL log (every statement's parameters) stays off even with every handler at DEBUG.
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.WARNING
    assert any(r.name == "django.request" and r.levelno == logging.ERROR for r in records)
    assert any(r.name == "ketaclinic.courses.reminders" for r in records)
    leaks = [
        f"{record.name}: {text[:300]!r}"
        for record in records
        for text in _texts(record)
        if any(canary in text.lower() for canary in CANARIES)
    ]
    assert not leaks, "\n".join(leaks[:10])
    out, err = capfd.readouterr()
    assert not any(canary in (out + err).lower() for canary in CANARIES)


def test_the_500_log_says_where_and_what_with_the_request_id(
    clinic: Clinic, every_record: Everything, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise DataError(f"DETAIL: Failing row contains ({GIVEN})")

    monkeypatch.setattr("ketaclinic.patients.selectors.patient_page_for_user", failing)
    client = clinic.client("ben")
    client.raise_request_exception = False
    response = client.get("/patients/")
    assert response.status_code == 500
    (logged,) = [r for r in every_record.records if r.name == "django.request"]
    assert logged.exc_info is None
    assert logged.exc_text is not None
    assert "django.db.utils.DataError" in logged.exc_text
    assert f"(request {response['X-Request-ID']})" in logged.exc_text
    assert "in failing" in logged.exc_text  # where it happened
    assert GIVEN not in logged.exc_text


def test_the_default_mail_backend_writes_files_under_var_mail(tmp_path: Path) -> None:
    assert product_settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    assert product_settings.EMAIL_FILE_PATH == product_settings.VAR_DIR / "mail"
    from django.core.mail import send_mail

    with override_settings(
        EMAIL_BACKEND=product_settings.EMAIL_BACKEND, EMAIL_FILE_PATH=tmp_path / "mail"
    ):
        send_mail("Your appointment", f"Dear {GIVEN}", "clinic@example.org", [EMAIL])
    (written,) = (tmp_path / "mail").iterdir()
    assert GIVEN in written.read_text()
