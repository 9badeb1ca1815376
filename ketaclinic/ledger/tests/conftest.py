"""Fixtures for the ledger's database tests: a registered location, sessions, receipts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.models import Container, RegisteredLocation
from ketaclinic.patients.models import Patient
from ketaclinic.testing import PASSWORD, Clinic, totp_now

CLINIC_DEA = "AB1234563"  # check digit: (1+3+5) + 2*(2+4+6) = 33 -> 3
SUPPLIER_DEA = "RM7654329"  # (7+5+3) + 2*(6+4+2) = 39 -> 9


def otp(clinic: Clinic, username: str) -> str:
    """A fresh TOTP code for a persona (the device's replay guard reset, so that one test may
    use the same witness more than once within 30 seconds)."""
    device = clinic.totp[username]
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return totp_now(device)


def witness(clinic: Clinic, username: str) -> services.WitnessCredentials:
    code = otp(clinic, username) if username in clinic.totp else ""
    return services.WitnessCredentials(username=username, password=PASSWORD, otp=code)


def witness_fields(clinic: Clinic, username: str) -> dict[str, str]:
    creds = witness(clinic, username)
    return {
        "witness_username": creds.username,
        "witness_password": creds.password,
        "witness_otp": creds.otp,
    }


def location_make(clinic: Clinic, **overrides: Any) -> RegisteredLocation:
    fields: dict[str, Any] = {
        "name": "Main clinic",
        "registrant_name": "Dr Ada Example",
        "address": "1 Example Street, Testville",
        "dea_number": CLINIC_DEA,
        "dea_expiry": date(2030, 1, 31),
    }
    fields.update(overrides)
    return services.location_register(acting_user=clinic.users["dana"], **fields)


def receive(
    clinic: Clinic,
    location: RegisteredLocation,
    *,
    containers: int = 1,
    volume: str = "10",
    concentration: str = "50",
    expiry: date | None = None,
    lot: str = "LOT-A1",
) -> list[Container]:
    _, vials = services.ledger_receive(
        acting_user=clinic.users["dana"],
        location=location,
        product_name="Ketamine HCl injection",
        ndc="0409-2051-05",
        form="injection, solution",
        concentration_mg_per_ml=Decimal(concentration),
        container_volume_ml=Decimal(volume),
        lot=lot,
        expiry=expiry or timezone.localdate() + timedelta(days=365),
        containers=containers,
        supplier_name="Synthetic Pharma Supply",
        supplier_address="9 Warehouse Road, Testville",
        supplier_dea_number=SUPPLIER_DEA,
        reference="INV-1001",
        received_at=timezone.now(),
    )
    return vials


def session_make(clinic: Clinic, patient: Patient | None = None) -> Session:
    protocol = Protocol.objects.filter(code="ledger-test").first()
    if protocol is None:
        protocol = Protocol.objects.create(
            code="ledger-test",
            version=1,
            name="Ledger test protocol",
            definition_json="{}",
            medication="ketamine",
            route="iv",
            mg_per_kg=Decimal("0.5"),
            infusion_minutes=40,
            max_dose_mg=Decimal("100"),
            source="test",
        )
    course = Course.objects.create(
        patient=patient or clinic.pat, protocol=protocol, started_by=clinic.users["ada"]
    )
    chair, _ = Chair.objects.get_or_create(name="Ledger chair")
    start = timezone.now()
    return Session.objects.create(
        course=course,
        chair=chair,
        phase="induction",
        start=start,
        chair_until=start + timedelta(hours=2),
        created_by=clinic.users["ben"],
    )


def chart_dose(session: Session, mg: str | None) -> None:
    """What the chart does when the infusion stops: the administered dose in mg."""
    value = None if mg is None else Decimal(mg)
    # Set by name: the chart's field may not be there yet (then the attribute alone serves).
    setattr(session, "administered_mg", value)  # noqa: B010
    if "administered_mg" in {f.name for f in Session._meta.get_fields()}:
        Session.objects.filter(pk=session.pk).update(**{"administered_mg": value})


@pytest.fixture
def location(clinic: Clinic) -> RegisteredLocation:
    return location_make(clinic)


@pytest.fixture
def vial(clinic: Clinic, location: RegisteredLocation) -> Container:
    return receive(clinic, location)[0]


@pytest.fixture
def session(clinic: Clinic) -> Session:
    return session_make(clinic)
