"""Creates a clinic with infusing sessions in the configured database: `main(N)`, called
after `django.setup()` with the app's environment (bench/fixtures.py, testing/served.py).
The personas, N sessions brought straight to "infusing", each in its own chair, an API token
for Nurse Ben and, when asked, vials of ketamine to draw from, printed as JSON on the last
line."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any


def _vials(clinic: Any, count: int) -> list[int]:
    """`count` 50 mL vials of ketamine received into a registered location (for draws)."""
    from datetime import date
    from decimal import Decimal

    from django.utils import timezone

    from ketaclinic.ledger import services

    location = services.location_register(
        acting_user=clinic.users["dana"],
        name="Main clinic",
        registrant_name="Dr Ada Example",
        address="1 Example Street, Testville",
        dea_number="AB1234563",  # check digit: (1+3+5) + 2*(2+4+6) = 33 -> 3
        dea_expiry=date(2030, 1, 31),
    )
    _receipt, vials = services.ledger_receive(
        acting_user=clinic.users["dana"],
        location=location,
        product_name="Ketamine HCl injection",
        ndc="0409-2051-05",
        form="injection, solution",
        concentration_mg_per_ml=Decimal("50"),
        container_volume_ml=Decimal("50"),
        lot="LOT-DRILL",
        expiry=timezone.localdate().replace(year=timezone.localdate().year + 1),
        containers=count,
        supplier_name="Synthetic Pharma Supply",
        supplier_address="9 Warehouse Road, Testville",
        supplier_dea_number="RM7654329",  # (7+5+3) + 2*(6+4+2) = 39 -> 9
        reference="INV-DRILL",
        received_at=timezone.now(),
    )
    return [vial.pk for vial in vials]


def main(count: int, vials: int = 0) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from django.utils import timezone

    from ketaclinic.courses.models import Chair, Course, Protocol
    from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionStatus
    from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
    from ketaclinic.testing import make_clinic

    clinic = make_clinic()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    now = timezone.now()
    sessions = []
    for n in range(count):
        course = Course.objects.create(
            patient=clinic.pat if n % 2 else clinic.quinn,
            protocol=protocol,
            started_by=clinic.users["ada"],
        )
        # Brought straight to "infusing": what is measured is vitals posts, not the start.
        session = Session.objects.create(
            course=course,
            chair=Chair.objects.create(name=f"Infusing chair {n}"),
            phase="induction",
            start=now,
            chair_until=now + timedelta(hours=2),
            status=SessionStatus.INFUSING,
            created_by=clinic.users["ben"],
        )
        ChartEntry.objects.create(
            session=session,
            kind=ChartEntryKind.INFUSION_START,
            at=now,
            recorded_by=clinic.users["ben"],
        )
        sessions.append(str(session.pk))
    made: dict[str, Any] = {"token": clinic.token("ben"), "sessions": sessions}
    if vials:
        made["containers"] = _vials(clinic, vials)
    print(json.dumps(made))
