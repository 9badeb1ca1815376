"""E-mail through Django's mail API (EMAIL_BACKEND: SMTP in production, a file in dev)."""

from __future__ import annotations

import smtplib
import socket
import uuid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from ketaclinic.reminders.channels import NotAccepted, Outgoing, Unconfirmed


def _by_code(code: int, what: str) -> NotAccepted:
    return NotAccepted(f"SMTP {code} ({what})", permanent=code >= 500)


class EmailChannel:
    def send(self, message: Outgoing) -> str:
        ref = f"<{uuid.uuid4()}@ketaclinic>"
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": ref},
        )
        try:
            get_connection(fail_silently=False).send_messages([email])
        except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as error:
            raise NotAccepted(type(error).__name__, permanent=False) from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise _by_code(min(codes, default=550), "recipient refused") from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise _by_code(error.smtp_code, type(error).__name__) from error
        except (OSError, smtplib.SMTPException) as error:
            # Dropped or timed out mid-conversation: the server may have taken it.
            raise Unconfirmed(type(error).__name__) from error
        return ref
