"""Test personas and helpers: Dr Ada the prescriber, Nurse Ben, Cleo at intake, Admin Dana,
and the patients Pat and Quinn. All synthetic. The Chromium harness is ``testing/browser.py``."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth import base_user
from django.contrib.auth.hashers import make_password
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import apitoken_create, user_create
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_create

PASSWORD = "correct-horse-battery-staple"  # noqa: S105  test persona password

STAFF_PERSONAS = {
    "ada": Role.CLINICIAN,
    "ben": Role.NURSE,
    "cleo": Role.INTAKE,
    "dana": Role.ADMIN,
}


@dataclass
class Clinic:
    users: dict[str, User]
    pat: Patient
    quinn: Patient
    totp: dict[str, TOTPDevice]

    def client(self, username: str | None) -> Client:
        """A browser session for the persona (verified 2FA where the role has a device)."""
        client = Client()
        if username is None:
            return client
        user = self.users[username]
        client.force_login(user)
        device = self.totp.get(username)
        if device is not None:
            session = client.session
            session["otp_device_id"] = device.persistent_id
            session.save()
        return client

    def token(self, username: str) -> str:
        return apitoken_create(user=self.users[username], days=1)[1]

    def api(self, username: str) -> Client:
        """An API client using a bearer token."""
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.token(username)}")


def make_patient(**overrides: Any) -> Patient:
    fields: dict[str, Any] = {
        "given_name": "Pat",
        "family_name": "Example",
        "birth_date": date(1988, 4, 2),
        "sex_at_birth": "female",
        "email": "pat@example.org",
        "phone": "555-0100",
        "address": "1 Synthetic Way, Testville",
        "emergency_contact": "Sam Example, partner, 555-0101",
    }
    fields.update(overrides)
    return patient_create(acting_user=None, **fields)


def totp_now(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@functools.cache
def _persona_password_hash(hashers: tuple[str, ...]) -> str:
    """The personas' password hashed once per test process and hasher list (a real Argon2 hash
    with the clinic's settings; each costs ~0.3 s of CPU, and every test that builds the clinic
    would pay for six). Keyed by the hashers, because some tests switch to a fast one and a hash
    made under theirs cannot be checked under the clinic's."""
    return make_password(PASSWORD)


@contextmanager
def _persona_hashing() -> Iterator[None]:
    """While the personas are created, the persona password's hash comes from the cache;
    any other password is hashed as usual."""

    def hashed(password: str | None, *args: Any, **kwargs: Any) -> str:
        if password == PASSWORD and not args and not kwargs:
            return _persona_password_hash(tuple(settings.PASSWORD_HASHERS))
        return make_password(password, *args, **kwargs)

    with mock.patch.object(base_user, "make_password", hashed):
        yield


def make_clinic() -> Clinic:
    with _persona_hashing():
        return _make_clinic()


def _make_clinic() -> Clinic:
    pat = make_patient()
    quinn = make_patient(
        given_name="Quinn",
        family_name="Sample",
        birth_date=date(1975, 11, 30),
        sex_at_birth="male",
        email="quinn@example.org",
        phone="555-0199",
        address="2 Fictional Road, Testville",
        emergency_contact="Robin Sample, sibling, 555-0198",
    )
    users: dict[str, User] = {}
    devices: dict[str, TOTPDevice] = {}
    for username, role in STAFF_PERSONAS.items():
        users[username] = user_create(
            acting_user=None, username=username, role=role, password=PASSWORD, validate=False
        )
        if users[username].two_factor_required:
            devices[username] = TOTPDevice.objects.create(
                user=users[username], name="default", confirmed=True
            )
    for username, patient in (("pat", pat), ("quinn", quinn)):
        users[username] = user_create(
            acting_user=None,
            username=username,
            role=Role.PATIENT,
            password=PASSWORD,
            patient=patient,
            validate=False,
        )
    return Clinic(users=users, pat=pat, quinn=quinn, totp=devices)


def pdf_text(pdf: bytes) -> str:
    """The text of an fpdf2 PDF, for assertions: its page streams, inflated."""
    text = []
    for chunk in pdf.split(b"stream\n")[1:]:
        body = chunk.split(b"\nendstream")[0]
        try:
            text.append(zlib.decompress(body).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(text)
