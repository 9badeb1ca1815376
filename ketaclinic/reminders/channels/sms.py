"""SMS backends: console (logs that a text went, never the number or the words), file (one
file per text under var/sms, like Django's file mail backend, for development) and a
Twilio-shaped REST provider: POST a form to ``{base}/2010-04-01/Accounts/{sid}/Messages.json``
with basic auth; its JSON answer carries the message's ``sid``."""

from __future__ import annotations

import base64
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ketaclinic.reminders.channels import NotAccepted, Outgoing, Unconfirmed

logger = logging.getLogger("ketaclinic.reminders")


class ConsoleSMSBackend:
    def send(self, message: Outgoing) -> str:
        ref = f"console-{uuid.uuid4()}"
        logger.info("SMS reminder handed to the console backend (ref %s)", ref)
        return ref


class FileSMSBackend:
    def send(self, message: Outgoing) -> str:
        ref = f"file-{uuid.uuid4()}"
        folder = Path(settings.REMINDERS_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        (folder / f"{stamp}-{ref}.txt").write_text(
            f"To: {message.to}\n\n{message.body}\n", encoding="utf-8"
        )
        return ref


class HttpSMSBackend:
    """A Twilio-shaped provider. Settings: REMINDERS_SMS_BASE_URL, _ACCOUNT_SID, _AUTH_TOKEN,
    _FROM, _TIMEOUT (seconds)."""

    def send(self, message: Outgoing) -> str:
        sid = settings.REMINDERS_SMS_ACCOUNT_SID
        base = settings.REMINDERS_SMS_BASE_URL.rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
        if not url.startswith(("http://", "https://")):
            raise NotAccepted("the SMS base URL is not http(s)", permanent=True)
        form = urllib.parse.urlencode(
            {"To": message.to, "From": settings.REMINDERS_SMS_FROM, "Body": message.body}
        ).encode()
        secret = f"{sid}:{settings.REMINDERS_SMS_AUTH_TOKEN}".encode()
        request = urllib.request.Request(  # noqa: S310  (scheme checked above)
            url,
            data=form,
            method="POST",
            headers={
                "Authorization": "Basic " + base64.b64encode(secret).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310  (scheme checked above)
                request, timeout=settings.REMINDERS_SMS_TIMEOUT
            ) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as error:
            # The provider answered: it did not take the message. Busy or broken: try later.
            transient = error.code == 429 or error.code >= 500
            raise NotAccepted(f"HTTP {error.code}", permanent=not transient) from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError | socket.gaierror):
                raise NotAccepted(type(error.reason).__name__, permanent=False) from error
            raise Unconfirmed(type(error.reason).__name__) from error
        except (TimeoutError, OSError) as error:
            raise Unconfirmed(type(error).__name__) from error
        try:
            ref = str(json.loads(payload)["sid"])
        except (ValueError, KeyError, TypeError):
            ref = "accepted (no sid in the answer)"
        return ref[:120]
