"""What a reminder says: the clinic, a date and time, the portal link. Never the drug, a
dose, a score, a scale or a diagnosis (tests/test_no_clinical_content.py holds every kind and
channel to that). Patient-facing: gettext, rendered in the patient's language."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from ketaclinic.patients.models import Patient
from ketaclinic.portal.selectors import patient_language
from ketaclinic.reminders.channels import Outgoing
from ketaclinic.reminders.models import Channel, Kind


def language_for(patient: Patient) -> str:
    """The language a patient's reminders are written in: the one they chose for their pages
    (portal ``LanguagePreference``), else the clinic's (settings.LANGUAGE_CODE)."""
    return patient_language(patient.pk)


def _when(moment: datetime) -> str:
    """ "Friday 4 December 2026, 09:00" in the clinic's zone, 24-hour, in the active language."""
    # Translators: a PHP-style date format (Django's "date" filter); 24-hour clock.
    return str(formats.date_format(timezone.localtime(moment), gettext("l j F Y, H:i")))


def _lines(kind: str, event_at: datetime | None) -> tuple[str, str]:
    clinic = settings.KETACLINIC_CLINIC_NAME
    link = settings.REMINDERS_PORTAL_URL
    if kind == Kind.SESSION_TOMORROW:
        assert event_at is not None
        subject = gettext("Appointment reminder from %(clinic)s") % {"clinic": clinic}
        text = gettext("You have an appointment at %(clinic)s on %(when)s.") % {
            "clinic": clinic,
            "when": _when(event_at),
        }
        text += " " + gettext("How to get ready is in your portal: %(link)s") % {"link": link}
    elif kind == Kind.QUESTIONNAIRE_DUE:
        subject = gettext("A questionnaire from %(clinic)s") % {"clinic": clinic}
        text = gettext("You have a questionnaire to fill in.")
        text += " " + gettext("Please open your portal: %(link)s") % {"link": link}
    elif kind == Kind.MISSED_SESSION:
        assert event_at is not None
        subject = gettext("We missed you at %(clinic)s") % {"clinic": clinic}
        text = gettext(
            "We missed you at %(clinic)s on %(when)s. Please call %(phone)s to book again."
        ) % {
            "clinic": clinic,
            "when": _when(event_at),
            "phone": settings.KETACLINIC_CLINIC_PHONE,
        }
        text += " " + gettext("Your portal: %(link)s") % {"link": link}
    else:
        raise ValueError(f"unknown reminder kind {kind!r}")
    return subject, text


def reminder_render(
    *, kind: str, channel: str, patient: Patient, event_at: datetime | None
) -> Outgoing:
    """The message for one patient, on one channel, in the patient's language."""
    with translation.override(language_for(patient)):
        subject, text = _lines(kind, event_at)
        if channel == Channel.EMAIL:
            body = text + "\n\n" + gettext("Please do not reply to this e-mail.") + "\n"
            return Outgoing(to=patient.email, subject=subject, body=body)
        return Outgoing(to=patient.phone, subject="", body=text)
