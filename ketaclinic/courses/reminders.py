"""The patient's reminder e-mail for a booked session, sent after the booking commits.

The subject names no treatment or condition (it shows on lock screens and in mail lists); the
body gives the time and the preparations.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from ketaclinic.infusions.models import Session

logger = logging.getLogger(__name__)


def session_reminder_text(session: Session) -> tuple[str, str]:
    """The subject and body of the reminder."""
    # The public site's settings (getattr: they arrive with the site app).
    clinic = str(getattr(settings, "KETACLINIC_CLINIC_NAME", "the clinic"))
    phone = str(getattr(settings, "KETACLINIC_CLINIC_PHONE", "the clinic"))
    local = timezone.localtime(session.start)
    patient = session.course.patient
    definition = session.course.protocol.definition()
    subject = f"Your appointment at {clinic} on {local:%A %d %B %Y}"
    lines = [
        f"Dear {patient.given_name},",
        "",
        f"Your appointment at {clinic} is on {local:%A %d %B %Y at %H:%M}.",
        "",
        "Before you come:",
        "- Fasting: follow the fasting instructions your care team gave you.",
    ]
    if definition.discharge.escort_required.value:
        lines.append("- Escort: bring an adult who can take you home afterwards.")
    lines += [
        "- Driving: do not drive, cycle or operate machinery until the next day, after a "
        "night's sleep.",
        "",
        f"To change or cancel, call {phone}.",
        "",
        clinic,
    ]
    return subject, "\n".join(lines)


def session_reminder_send(session_id: UUID) -> None:
    """E-mail the reminder to the patient, if the patient has an address. Runs after commit;
    a mail server failure is logged and does not undo the booking."""
    session = (
        Session.objects.select_related("course__patient", "course__protocol")
        .filter(pk=session_id)
        .first()
    )
    if session is None or not session.course.patient.email:
        return
    subject, body = session_reminder_text(session)
    try:
        send_mail(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [session.course.patient.email],
        )
    except OSError:
        logger.exception("reminder e-mail for session %s could not be sent", session_id)
