"""Creates a clinic with infusing sessions in the configured database: `main(N)`, called
after `django.setup()` with the app's environment (bench/fixtures.py, testing/served.py).
The personas, N sessions brought straight to "infusing", each in its own chair, and an API
token for Nurse Ben, printed as JSON on the last line."""

from __future__ import annotations

import json
import os
from datetime import timedelta


def main(count: int) -> None:
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
    print(json.dumps({"token": clinic.token("ben"), "sessions": sessions}))
