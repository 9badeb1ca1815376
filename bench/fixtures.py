"""Creates the bench clinic in the app's database (run as `python -m bench.fixtures` with the
app's environment): the personas, one infusing session per connection, and an API token for
Nurse Ben. Prints them as JSON on the last line."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta


def main(connections: int) -> None:
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
    for n in range(connections):
        course = Course.objects.create(
            patient=clinic.pat if n % 2 else clinic.quinn,
            protocol=protocol,
            started_by=clinic.users["ada"],
        )
        # Brought straight to "infusing": the bench measures vitals posts, not the start.
        session = Session.objects.create(
            course=course,
            chair=Chair.objects.create(name=f"Bench chair {n}"),
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
