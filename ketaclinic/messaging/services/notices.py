"""The e-mail notices of a new message. They hold no content: no text, no subject, nothing
clinical; only that there is a message and where to sign in to read it.

``notice_send`` is the one place that sends: re-point it at the reminders' channel layer
(ketaclinic/reminders/) when the two meet.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from ketaclinic.patients.models import Patient
from ketaclinic.portal.selectors import patient_language

logger = logging.getLogger(__name__)


def notice_send(*, to: str, subject: str, body: str) -> None:
    """Send one notice by e-mail. A failing mail server is logged (without the address) and
    never undoes the message, which the portal and the inbox show either way."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:  # any backend error: the message stands, the notice is lost
        logger.exception("message notice not sent")


def patient_notice(*, patient_id: UUID, portal_link: str) -> None:
    """Tell the patient a member of the care team wrote, in the language they chose for their
    pages (the clinic's when they never chose)."""
    patient = Patient.objects.filter(pk=patient_id).only("email").first()
    if patient is None or not patient.email:
        return
    language = patient_language(patient_id)
    clinic = settings.KETACLINIC_CLINIC_NAME
    with translation.override(language):
        subject = _("A new message from %(clinic)s") % {"clinic": clinic}
        body = _(
            "You have a new message from %(clinic)s. Sign in to read it: %(link)s\n\n"
            "For your privacy, this e-mail does not include the message. If you did not "
            "expect it, please call the clinic on %(phone)s."
        ) % {"clinic": clinic, "link": portal_link, "phone": settings.KETACLINIC_CLINIC_PHONE}
    notice_send(to=patient.email, subject=subject, body=body)


def clinic_notice(*, inbox_link: str, urgent: bool) -> None:
    """Tell the clinic's inbox address a patient wrote (which patient and what, only after
    signing in)."""
    to = settings.KETACLINIC_MESSAGES_NOTICE_EMAIL
    if not to:
        return
    subject = "New patient message" + (" (marked urgent)" if urgent else "")
    body = (
        "A patient sent a message"
        + (", and it holds words that may mean an emergency" if urgent else "")
        + f". Sign in to read it: {inbox_link}\n\n"
        "This e-mail holds no patient details on purpose.\n"
    )
    notice_send(to=to, subject=subject, body=body)
