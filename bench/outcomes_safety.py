"""The outcomes benchmark's session charts: what the clinic page's safety section reads.

``chart_sessions`` fills, by COPY, the chart of every generated session that has none: a dose
check (mg/kg by patient: 0.5, 0.6, 0.75 or 1.0 on a weight-based protocol), a pre-infusion
blood pressure and two during the infusion, the infusion's start and stop (some stopped early,
some paused), a CADSS score or a 0-4 dissociation rating, now and then a side effect; then an
alert for each reading over 160 mmHg systolic (one set-based INSERT: alerts name their
reading). ``chart_new_sessions`` gives some patients one more session through the ORM, one
transaction each, as the chart does (the change triggers mark their patients).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

DOSES = (Decimal("0.5"), Decimal("0.6"), Decimal("0.75"), Decimal("1.0"))


def _session_ids(cursor: Any) -> Iterator[tuple[Any, Any, Any]]:
    """(session, start, patient) of every generated session without a chart, in course order."""
    cursor.execute(
        """
        SELECT s.id, s.start, c.patient_id FROM infusions_session s
        JOIN courses_course c ON c.id = s.course_id
        JOIN patients_patient p ON p.id = c.patient_id AND p.given_name = 'Bench'
        WHERE NOT EXISTS (SELECT 1 FROM infusions_dosecheck d WHERE d.session_id = s.id)
        ORDER BY s.course_id, s.start
        """
    )
    yield from cursor.fetchall()


def _chart(session: Any, start: datetime, dose: Decimal, rng: random.Random) -> dict[str, Any]:
    """One session's chart as rows per table (plain values, ready to COPY)."""
    base_sys, base_dia = rng.randint(105, 145), rng.randint(65, 92)
    rise = 10 + int(float(dose) * 25)
    vitals = [("checked_in", -5, base_sys, base_dia)] + [
        ("infusing", m, base_sys + rng.randint(-5, rise), base_dia + rng.randint(-4, rise // 2))
        for m in (15, 30)
    ]
    stop = 40 if rng.random() > 0.06 else rng.randint(10, 35)
    entries: list[tuple[str, float, dict[str, Any]]] = [("infusion_start", 0, {})]
    if rng.random() < 0.05:
        entries += [("pause", 12, {}), ("resume", 17, {})]
        stop += 5
    entries.append(("infusion_stop", stop, {}))
    if rng.random() < 0.7:
        entries.append(("assessment", 30, {"instrument": "cadss", "score": rng.randint(0, 30)}))
    else:
        entries.append(
            ("assessment", 30, {"instrument": "dissociation_0_4", "score": rng.randint(0, 4)})
        )
    if rng.random() < 0.1:
        entries.append(("side_effect", 25, {"effect": "nausea"}))
    return {"vitals": vitals, "entries": entries, "stop": stop}


def chart_sessions(seed: int) -> dict[str, int]:
    """Chart every generated session that has no chart yet (change triggers off, as for the
    rest of the generated clinic: a full rebuild follows)."""
    from django.db import connection

    from bench.outcomes import _copy
    from ketaclinic.accounts.models import User
    from ketaclinic.courses.models import Protocol
    from ketaclinic.infusions.models import ChartEntry, DoseCheck, VitalsReading

    rng = random.Random(seed)  # noqa: S311  synthetic data
    nurse = User.objects.filter(role="clinician").order_by("pk").first()
    assert nurse is not None
    # the generated courses are all on the first active protocol: make sure it doses by weight
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None and protocol.mg_per_kg is not None, "a weight-based protocol"
    now = datetime.now(UTC)
    with connection.cursor() as django_cursor:
        raw = django_cursor.cursor
        sessions = list(_session_ids(django_cursor))
        doses: dict[Any, Decimal] = {}
        charts = []
        for session, start, patient in sessions:
            dose = doses.setdefault(patient, rng.choice(DOSES))
            charts.append((session, start, dose, _chart(session, start, dose, rng)))

        def dose_rows() -> Iterator[dict[str, Any]]:
            for session, start, dose, _ in charts:
                yield {
                    "session_id": session,
                    "amount": dose,
                    "weight_kg": Decimal("70"),
                    "dose_mg": dose * 70,
                    "infusion_minutes": 40,
                    "max_single_dose_mg": Decimal("100"),
                    "working": "bench",
                    "calculated_by_id": nurse.pk,
                    "calculated_at": start - timedelta(minutes=30),
                    "above_maximum": False,
                }

        def vitals_rows() -> Iterator[dict[str, Any]]:
            for session, start, _, chart in charts:
                for phase, minute, sbp, dbp in chart["vitals"]:
                    yield {
                        "session_id": session,
                        "at": start + timedelta(minutes=minute),
                        "phase": phase,
                        "systolic_mmhg": sbp,
                        "diastolic_mmhg": dbp,
                        "heart_rate_bpm": 80,
                        "spo2_percent": 98,
                        "respiratory_rate": 14,
                        "recorded_by_id": nurse.pk,
                        "recorded_at": now,
                        "source": "nurse",
                        "artefact": False,
                    }

        def entry_rows() -> Iterator[dict[str, Any]]:
            for session, start, _, chart in charts:
                for kind, minute, data in chart["entries"]:
                    yield {
                        "session_id": session,
                        "kind": kind,
                        "at": start + timedelta(minutes=minute),
                        "data_json": json.dumps(data, sort_keys=True, separators=(",", ":")),
                        "recorded_by_id": nurse.pk,
                        "recorded_at": now,
                    }

        counts = {}
        django_cursor.execute("SET session_replication_role = replica")
        counts["dose checks"] = _copy(raw, DoseCheck, dose_rows())
        counts["vitals"] = _copy(raw, VitalsReading, vitals_rows())
        counts["chart entries"] = _copy(raw, ChartEntry, entry_rows())
        django_cursor.execute(
            """
            INSERT INTO infusions_sessionalert (session_id, vitals_id, code, field, value,
                comparator, threshold, recommended_action, actions, message, source, raised_at,
                acknowledgement_note)
            SELECT v.session_id, v.id, 'sbp_high', 'systolic_mmhg', v.systolic_mmhg, '>', 160,
                   'recheck', 'recheck', 'Systolic over 160', 'bench', v.at, ''
            FROM infusions_vitalsreading v
            WHERE v.systolic_mmhg > 160 AND NOT EXISTS (
                SELECT 1 FROM infusions_sessionalert a WHERE a.vitals_id = v.id)
            """
        )
        counts["alerts"] = django_cursor.rowcount
        django_cursor.execute("SET session_replication_role = origin")
        django_cursor.execute("ANALYZE")
    counts["sessions charted"] = len(charts)
    return counts


def chart_new_sessions(targets: list[tuple[Any, Any]], user: Any, seed: int) -> int:
    """One more signed session for each (patient, last infusion), charted through the ORM, one
    transaction each; returns how many."""
    from django.db import transaction

    from ketaclinic.courses.models import Chair, Course
    from ketaclinic.infusions.models import ChartEntry, DoseCheck, Session, VitalsReading

    rng = random.Random(seed)  # noqa: S311  synthetic data
    chair = Chair.objects.get(name="Bench chair")
    for patient_id, last_at in targets:
        course = Course.objects.filter(patient_id=patient_id).order_by("pk").first()
        assert course is not None
        start = last_at + timedelta(days=3, hours=seed % 7)
        dose = rng.choice(DOSES)
        chart = _chart(None, start, dose, rng)
        with transaction.atomic():
            session = Session.objects.create(
                course=course,
                chair=chair,
                phase="maintenance",
                start=start,
                chair_until=start + timedelta(hours=3),
                status="signed",
                created_by=user,
            )
            DoseCheck.objects.create(
                session=session,
                amount=dose,
                weight_kg=Decimal("70"),
                dose_mg=dose * 70,
                infusion_minutes=40,
                max_single_dose_mg=Decimal("100"),
                working="bench",
                calculated_by=user,
                calculated_at=start - timedelta(minutes=30),
            )
            for phase, minute, sbp, dbp in chart["vitals"]:
                VitalsReading.objects.create(
                    session=session,
                    at=start + timedelta(minutes=minute),
                    phase=phase,
                    systolic_mmhg=sbp,
                    diastolic_mmhg=dbp,
                    heart_rate_bpm=80,
                    spo2_percent=98,
                    respiratory_rate=14,
                    recorded_by=user,
                )
            for kind, minute, data in chart["entries"]:
                ChartEntry.objects.create(
                    session=session,
                    kind=kind,
                    at=start + timedelta(minutes=minute),
                    data_json=json.dumps(data, sort_keys=True, separators=(",", ":")),
                    recorded_by=user,
                )
    return len(targets)
