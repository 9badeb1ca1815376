"""The one-statement Observation search (``fhir/search/fast.py``) against the general engine:
the same pages byte for byte, over sorts, page sizes and both directions; its stored vital-sign
texts never served stale (``save()``, ``QuerySet.update()``, raw SQL, a new builder) and gone
with their reading; a fixed few statements per search."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.fhir import services
from ketaclinic.fhir.models import VitalsText
from ketaclinic.fhir.questionnaire import builtin_url
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.search import engine, fast
from ketaclinic.fhir.search.cursor import Cursor, cursor_loads
from ketaclinic.fhir.search.engine import Page
from ketaclinic.fhir.search.params import Handling
from ketaclinic.infusions.models import Session, SessionStatus, VitalsReading, VitalsSource
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.scales import instruments
from ketaclinic.testing import Clinic, make_patient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the one-statement search runs on PostgreSQL only (SQLite answers by the engine)",
    ),
]

KIND = TYPES["Observation"]


def _response(patient_id: Any, n: int) -> dict[str, Any]:
    instrument = instruments.get("gad7")
    items = [
        {"linkId": item.link_id, "answer": [{"valueInteger": item.options[(n + k) % 4].weight}]}
        for k, item in enumerate(instrument.items)
    ]
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url("gad7"),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        # Some authored on the same day as others: ties on the date sort across sources.
        "authored": f"2026-0{1 + n % 3}-1{n % 2}T09:30:00+00:00",
        "item": items,
    }


def _session(clinic: Clinic, patient: Any) -> Session:
    ben = clinic.users["ben"]
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    course = Course.objects.create(patient=patient, protocol=protocol, started_by=ben)
    start = timezone.now() - timedelta(days=3)
    return Session.objects.create(
        course=course,
        chair=Chair.objects.create(name=f"Chair {patient.pk}"),
        phase="induction",
        start=start,
        chair_until=start + timedelta(hours=2),
        status=SessionStatus.SIGNED,
        created_by=ben,
    )


def _record(clinic: Clinic, readings: int = 9, scores: int = 6) -> Any:
    """A patient with GAD-7 scores and vital signs of every kind: typed, from a monitor
    (unconfirmed, with values missing), confirmed, an artefact; some at the same time."""
    ben = clinic.users["ben"]
    patient = make_patient(given_name="Fast", email="")
    session = _session(clinic, patient)
    start = session.start
    for k in range(readings):
        monitor = k % 3 == 1
        VitalsReading.objects.create(
            session=session,
            at=start + timedelta(minutes=5 * (k // 2)),  # pairs at the same minute
            phase="infusing",
            systolic_mmhg=None if k == 4 else 110 + k,
            diastolic_mmhg=None if k == 4 else 70 + k,
            heart_rate_bpm=60 + k,
            spo2_percent=None if monitor else 96,
            respiratory_rate=12 + k % 4,
            source=VitalsSource.MONITOR if monitor else VitalsSource.NURSE,
            device="Monitor 1" if monitor else "",
            recorded_by=None if monitor else ben,
            confirmed_at=start + timedelta(hours=1) if k == 7 else None,
            confirmed_by=ben if k == 7 else None,
            artefact=k == 5,
            artefact_reason="cuff slipped" if k == 5 else "",
            artefact_at=start + timedelta(hours=2) if k == 5 else None,
            artefact_by=ben if k == 5 else None,
        )
    for n in range(scores):
        services.questionnaire_response_record(acting_user=ben, body=_response(patient.pk, n))
    return patient


def _parsed(patient: Any, **more: str) -> Any:
    values = {"patient": [str(patient.pk)]} | {k: [v] for k, v in more.items()}
    return engine.parse(KIND, values, Handling.LENIENT)[0]


def _cursor(text: str | None) -> tuple[Any, ...] | None:
    if text is None:
        return None
    c = cursor_loads(text, "Observation")
    return (c.snapshot, c.source, c.pk, c.backward)


def _shape(page: Page) -> tuple[Any, ...]:
    return (
        page.total,
        [(e.resource_id, e.served_text(), e.patient_id) for e in page.entries],
        _cursor(page.next_cursor),
        _cursor(page.previous_cursor),
    )


def _both(clinic: Clinic, patient: Any, cursor: str | None, **more: str) -> tuple[Page, Page]:
    parsed = _parsed(patient, **more)
    loaded = cursor_loads(cursor, "Observation") if cursor else None
    quick = fast.search(KIND, patient.pk, parsed, loaded)
    assert quick is not None
    general = engine.search(KIND, clinic.users["ben"], _parsed(patient, **more), loaded)
    return quick, general


@pytest.mark.parametrize("sort", ["", "date", "-date", "_lastUpdated", "-_lastUpdated"])
@pytest.mark.parametrize("count", ["1", "4", "7", "20"])
def test_fast_pages_are_the_general_engines_byte_for_byte(
    clinic: Clinic, sort: str, count: str
) -> None:
    patient = _record(clinic)
    make_patient(given_name="Other", email="")  # another patient's rows stay out
    more = {"_count": count} | ({"_sort": sort} if sort else {})
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        quick, general = _both(clinic, patient, None, **more)
    assert _shape(quick) == _shape(general)
    assert quick.total == 6 + 9 * 4 - 1 - 3  # k=4 has no pressure; k=1,4,7 no saturation
    pages = [quick]
    while quick.next_cursor is not None:  # forward to the end
        quick, general = _both(clinic, patient, quick.next_cursor, **more)
        assert _shape(quick) == _shape(general)
        pages.append(quick)
    seen = [e.resource_id for p in pages for e in p.entries]
    assert len(seen) == len(set(seen)) == quick.total
    while quick.previous_cursor is not None:  # and back to the start
        quick, general = _both(clinic, patient, quick.previous_cursor, **more)
        assert _shape(quick) == _shape(general)


def test_summary_count_and_count_zero_answer_the_total_alone(clinic: Clinic) -> None:
    patient = _record(clinic, readings=3, scores=2)
    for more in ({"_summary": "count"}, {"_count": "0"}):
        quick, general = _both(clinic, patient, None, **more)
        assert quick.total == general.total == 2 + 3 * 4 - 1
        assert quick.entries == general.entries == []


def test_a_paging_position_that_is_gone_is_left_to_the_engine(clinic: Clinic) -> None:
    patient = _record(clinic, readings=2, scores=0)
    gone = Cursor("Observation", timezone.now(), 1, "999999999", False)
    assert fast.search(KIND, patient.pk, _parsed(patient), gone) is None


def _bundle(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    del body["id"], body["meta"]  # a new id and time for every Bundle
    for entry in body["entry"]:
        if entry["search"]["mode"] == "outcome":
            del entry["fullUrl"]  # urn:uuid:<new>
    for link in body["link"]:
        url_part, _, cursor = link["url"].partition("&_cursor=")
        link["url"] = (url_part, _cursor(cursor.replace("%3A", ":")) if cursor else None)
    return body


def test_the_served_bundle_is_the_same_with_and_without_the_fast_path(clinic: Clinic) -> None:
    patient = _record(clinic)
    api = clinic.api("ben")
    url = f"/fhir/R4/Observation?patient=Patient/{patient.pk}&_count=5&_sort=-date&unknown=1"
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        quick = _bundle(api, url)
        with mock.patch.object(fast, "applies", return_value=False):
            general = _bundle(api, url)
    assert quick == general
    assert quick["total"] == 38 and len(quick["entry"]) == 6  # 5 matches and the outcome


def _texts(clinic: Clinic, patient: Any) -> dict[str, str]:
    parsed = _parsed(patient, _count="200")
    page = fast.search(KIND, patient.pk, parsed, None)
    assert page is not None
    general = engine.search(KIND, clinic.users["ben"], _parsed(patient, _count="200"), None)
    assert _shape(page) == _shape(general)  # whatever was stored, the current text is served
    return {e.resource_id: e.text for e in page.entries}


def test_a_stored_text_is_never_served_stale(clinic: Clinic) -> None:
    patient = _record(clinic, readings=3, scores=1)
    first, second, third = VitalsReading.objects.filter(session__course__patient=patient)
    _texts(clinic, patient)
    assert VitalsText.objects.filter(reading__in=[first, second, third]).count() == 11
    stored = dict(VitalsText.objects.values_list("id", "stamp"))

    first.heart_rate_bpm = 131
    first.save()  # save()
    assert '"value":131' in _texts(clinic, patient)[f"vitals-{first.pk}-hr"]

    VitalsReading.objects.filter(pk=second.pk).update(artefact=True, artefact_reason="moved")
    assert '"entered-in-error"' in _texts(clinic, patient)[f"vitals-{second.pk}-bp"]

    with connection.cursor() as cursor:  # raw SQL, behind the ORM's back
        table = VitalsReading._meta.db_table
        cursor.execute(f"UPDATE {table} SET respiratory_rate = 29 WHERE id = %s", [third.pk])  # noqa: S608
    assert '"value":29' in _texts(clinic, patient)[f"vitals-{third.pk}-rr"]
    changed = {pk for pk, stamp in VitalsText.objects.values_list("id", "stamp")} - {
        pk for pk, stamp in stored.items() if VitalsText.objects.filter(pk=pk, stamp=stamp)
    }
    assert len(changed) == 4 + 4 + 3  # every text of the three readings was stored again


def test_a_new_builder_builds_every_text_again(clinic: Clinic) -> None:
    patient = _record(clinic, readings=2, scores=0)
    _texts(clinic, patient)
    before = set(VitalsText.objects.values_list("stamp", flat=True))
    with (
        mock.patch.object(fast, "builder_fingerprint", return_value="another-builder"),
        CaptureQueriesContext(connection) as queries,
    ):
        _texts(clinic, patient)
    assert any("fhir_vitalstext" in q["sql"] and "INSERT" in q["sql"] for q in queries)
    assert set(VitalsText.objects.values_list("stamp", flat=True)).isdisjoint(before)


def test_a_deleted_reading_takes_its_texts_with_it(clinic: Clinic) -> None:
    patient = _record(clinic, readings=3, scores=0)
    _texts(clinic, patient)
    first, second, _third = VitalsReading.objects.filter(session__course__patient=patient)
    first.delete()  # the ORM
    with connection.cursor() as cursor:  # raw SQL: the database's ON DELETE CASCADE
        table = VitalsReading._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [second.pk])  # noqa: S608  our name
    assert set(VitalsText.objects.values_list("reading_id", flat=True)) == {_third.pk}
    assert len(_texts(clinic, patient)) == 4


def test_a_search_takes_a_fixed_few_statements(clinic: Clinic) -> None:
    patient = _record(clinic)
    api = clinic.api("ben")
    url = f"/fhir/R4/Observation?patient={patient.pk}&_count=20"
    first = api.get(url)  # fills the store
    with CaptureQueriesContext(connection) as queries:
        again = api.get(url)
    assert again.status_code == 200 and len(again.json()["entry"]) == 20
    assert json.loads(first.content)["total"] == again.json()["total"] == 38
    # token, the patient's access check, the page with its texts and total, the audit
    assert len(queries) == 4, [q["sql"][:80] for q in queries]
