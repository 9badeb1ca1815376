"""Every kind of reminder on every channel, in English and Spanish, sent through the real
pipeline (the worker's job, Django's mail outbox, the fake SMS provider): the body is exactly
the template (the clinic, a date and time, the phone, the portal link) and carries nothing
clinical: not the drug, the treatment, a scale, a score or the patient's diagnosis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from ketaclinic.eligibility.models import Diagnosis, RecordSource
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import LanguagePreference
from ketaclinic.reminders.services import reminders_run
from ketaclinic.reminders.tests.fakes import FakeSmsProvider, fake_sms_provider
from ketaclinic.reminders.tests.helpers import book, local, prefer, use_fake_provider
from ketaclinic.scales import instruments
from ketaclinic.scales.models import RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic

PORTAL = "https://portal.clinic.example/portal/"
DENY = [
    "ketamine",
    "ketamina",
    "esketamine",
    "infusion",
    "infusión",
    "dose",
    "dosis",
    " mg",
    "anxiety",
    "ansiedad",
    "depress",
    "suicid",
    "score",
    "puntuación",
    "induction",
    "Chair 1",
]


@pytest.fixture
def sms(settings: Any) -> Iterator[FakeSmsProvider]:
    with fake_sms_provider() as provider:
        use_fake_provider(settings, provider)
        settings.REMINDERS_PORTAL_URL = PORTAL
        settings.KETACLINIC_CLINIC_NAME = "Harbour Clinic"
        settings.KETACLINIC_CLINIC_PHONE = "555-0100"
        yield provider


def _deny_list(patient: Patient) -> list[str]:
    words = list(DENY)
    for code in instruments.BUILTIN_CODES:
        instrument = instruments.get(code)
        words += [code, instrument.name]
    words += [d.display for d in Diagnosis.objects.filter(patient=patient)]
    words += [d.icd10 for d in Diagnosis.objects.filter(patient=patient) if d.icd10]
    return [w for w in words if w.strip()]


def _set_up(clinic: Clinic) -> None:
    prefer(clinic.pat, quiet=None)
    Diagnosis.objects.create(
        patient=clinic.pat,
        source=RecordSource.IMPORT,
        icd10="F41.1",
        display="Generalized anxiety disorder",
        recorded_at=timezone.now(),
    )
    book(clinic, local(1, 10))  # tomorrow
    book(clinic, local(0, 8))  # this morning, never checked in
    schedule_create(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
        starts_on=local(-1, 0).date(),
    )


EXPECTED = {
    "en": [
        "You have an appointment at Harbour Clinic on {tomorrow}, 10:00. "
        f"How to get ready is in your portal: {PORTAL}",
        f"You have a questionnaire to fill in. Please open your portal: {PORTAL}",
        "We missed you at Harbour Clinic on {today}, 08:00. Please call 555-0100 to book "
        f"again. Your portal: {PORTAL}",
    ],
    "es": [
        "Tiene una cita en Harbour Clinic el {tomorrow}, 10:00. "
        f"Cómo prepararse está en su portal: {PORTAL}",
        f"Tiene un cuestionario por completar. Por favor, abra su portal: {PORTAL}",
        "Le echamos de menos en Harbour Clinic el {today}, 08:00. Por favor, llame al "
        f"555-0100 para pedir una nueva cita. Su portal: {PORTAL}",
    ],
}
DAY_FORMAT = {"en": "l j F Y", "es": r"l j \d\e F \d\e Y"}
EMAIL_END = {
    "en": "\n\nPlease do not reply to this e-mail.\n",
    "es": "\n\nPor favor, no responda a este correo.\n",
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_kind_and_channel_says_only_the_template(
    clinic: Clinic, sms: FakeSmsProvider, language: str
) -> None:
    from django.utils import formats, translation

    if language != "en":  # the language the patient chose for their pages (portal)
        LanguagePreference.objects.create(patient=clinic.pat, language=language)
    _set_up(clinic)
    summary = reminders_run(now=local(0, 12))
    assert summary.sent == 6  # three kinds, two channels
    with translation.override(language):
        days = {
            "tomorrow": formats.date_format(local(1, 10), DAY_FORMAT[language]),
            "today": formats.date_format(local(0, 8), DAY_FORMAT[language]),
        }
    expected = sorted(line.format(**days) for line in EXPECTED[language])
    texts = sorted(r.form["Body"] for r in sms.requests)
    assert texts == expected
    emails = sorted(str(m.body) for m in mail.outbox)
    assert emails == sorted(line + EMAIL_END[language] for line in expected)
    subjects = " ".join(str(m.subject) for m in mail.outbox)
    everything = " ".join([*texts, *emails, subjects]).lower()
    for word in _deny_list(clinic.pat):
        assert word.lower() not in everything, word
