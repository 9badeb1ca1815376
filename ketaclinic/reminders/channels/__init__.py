"""The channels a reminder goes by, behind one interface: ``send(Outgoing) -> provider ref``.

A backend says how a try ended by what it raises:
- nothing: the provider accepted the message (its reference is returned);
- ``NotAccepted``: the provider said no before accepting it (a refused connection, a 429 or
  5xx answer, an SMTP 4xx reply: ``permanent=False``, worth another try later; a refused
  number or address: ``permanent=True``);
- ``Unconfirmed``: it may have gone (a timeout after the request was out, a dropped
  connection): never sent again automatically, so that a patient never gets two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str


class NotAccepted(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Unconfirmed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelBackend(Protocol):
    def send(self, message: Outgoing) -> str: ...


def backend_for(channel: str) -> ChannelBackend:
    """The configured backend of a channel ("email" or "sms")."""
    if channel == "email":
        from ketaclinic.reminders.channels.email import EmailChannel

        return EmailChannel()
    if channel == "sms":
        backend: ChannelBackend = import_string(settings.REMINDERS_SMS_BACKEND)()
        return backend
    raise ValueError(f"unknown channel {channel!r}")
