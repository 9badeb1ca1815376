"""The FHIR search bench's clinic, made in the app's database (`python -m bench.fhir_data
PATIENTS PER_PATIENT` with the app's environment): PATIENTS patients, each with PER_PATIENT
Observations: GAD-7 scores (a fifth, recorded through the FHIR service: validated, scored and
stored as the API stores them) and the rest vital signs (readings of four measures each, in
one signed session). Fills the thin baseline's table with the same served texts, and prints
Nurse Ben's API token and the patients' ids as JSON on the last line."""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import timedelta
from typing import Any


def _response(patient_id: Any, n: int) -> dict[str, Any]:
    from ketaclinic.fhir.questionnaire import builtin_url
    from ketaclinic.scales import instruments

    instrument = instruments.get("gad7")
    items = []
    for k, item in enumerate(instrument.items):
        option = item.options[(n + k) % len(item.options)]
        items.append({"linkId": item.link_id, "answer": [{"valueInteger": option.weight}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url("gad7"),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": f"2026-0{1 + n % 9}-{10 + n % 18:02d}T09:30:00+01:00",
        "item": items,
    }


def main(patients: int, per_patient: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.fhir_baseline import TABLE
    from ketaclinic.courses.models import Chair, Course, Protocol
    from ketaclinic.fhir import services
    from ketaclinic.fhir.registry import TYPES
    from ketaclinic.fhir.search import engine, fast
    from ketaclinic.fhir.search.params import Handling
    from ketaclinic.infusions.models import Session, SessionStatus, VitalsReading
    from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
    from ketaclinic.testing import make_clinic, make_patient

    clinic = make_clinic()
    ben = clinic.users["ben"]
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    chair = Chair.objects.create(name="Bench chair")
    scores = max(1, per_patient // 5)
    readings = max(1, (per_patient - scores) // 4)
    now = timezone.now()
    ids = []
    for i in range(patients):
        patient = make_patient(given_name=f"Bench{i}", email="", phone="")
        ids.append(str(patient.pk))
        course = Course.objects.create(patient=patient, protocol=protocol, started_by=ben)
        start = now - timedelta(days=30 + i)
        session = Session.objects.create(
            course=course,
            chair=chair,
            phase="induction",
            start=start,
            chair_until=start + timedelta(hours=2),
            status=SessionStatus.SIGNED,
            created_by=ben,
        )
        VitalsReading.objects.bulk_create(
            [
                VitalsReading(
                    session=session,
                    at=start + timedelta(minutes=5 * k),
                    phase="infusing",
                    systolic_mmhg=110 + k % 30,
                    diastolic_mmhg=70 + k % 15,
                    heart_rate_bpm=60 + k % 30,
                    spo2_percent=95 + k % 5,
                    respiratory_rate=12 + k % 6,
                    recorded_by=ben,
                )
                for k in range(readings)
            ]
        )
        for n in range(scores):
            services.questionnaire_response_record(acting_user=ben, body=_response(patient.pk, n))
    # The baseline serves the very texts the app serves (meta included), from its own table.
    kind = TYPES["Observation"]
    rows = []
    for patient_id in ids:
        parsed, _ = engine.parse(
            kind, {"patient": [patient_id], "_count": ["1000"]}, Handling.LENIENT
        )
        page = engine.search(kind, ben, parsed, None)
        # The app's store of validated vital-sign texts, as the first search of each patient
        # fills it (fhir/search/fast.py): the bench measures searches after that first read.
        fast.search(kind, uuid.UUID(patient_id), parsed, None)
        for built in page.entries:
            effective = json.loads(built.text).get("effectiveDateTime")
            rows.append((built.resource_id, patient_id, effective, built.served_text()))
    with connection.cursor() as cursor:
        cursor.execute(TABLE)
        cursor.executemany("INSERT INTO bench_fhir_observation VALUES (%s, %s, %s, %s)", rows)
        cursor.execute("ANALYZE")
    print(json.dumps({"token": clinic.token("ben"), "patients": ids, "observations": len(rows)}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
