"""Vital signs on the chart: each protocol threshold raises exactly the alerts the protocol
names (with its recommended action), a retried post stores one row, implausible values answer
422 and store nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import SessionAlert, VitalsReading
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN, shipped_protocol
from ketaclinic.infusions.tests.chart_driver import Chart

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 120, "diastolic": 80, "heart_rate": 72, "spo2": 98, "resp_rate": 14}

# (values, the alert codes the shipped IV protocol names for them during the infusion)
AT_THRESHOLDS: list[tuple[dict[str, Any], list[str]]] = [
    ({"systolic": 179}, []),
    ({"systolic": 180}, ["sbp_high"]),
    ({"diastolic": 99}, []),
    ({"diastolic": 100}, ["dbp_high"]),
    ({"heart_rate": 109}, []),
    ({"heart_rate": 110}, ["hr_high"]),
    ({"spo2": 92}, []),
    ({"spo2": 91}, ["spo2_low"]),
    ({"resp_rate": 10}, []),
    ({"resp_rate": 9}, ["rr_low"]),
    ({"moaas": 3}, []),
    ({"moaas": 2}, ["moaas_low"]),
    (
        {"systolic": 190, "diastolic": 105, "heart_rate": 120, "spo2": 88, "resp_rate": 8},
        ["sbp_high", "dbp_high", "hr_high", "spo2_low", "rr_low"],
    ),
]


@pytest.mark.parametrize(("values", "codes"), AT_THRESHOLDS)
def test_vitals_at_each_threshold_raise_exactly_the_protocols_alerts(
    chart: Chart, values: dict[str, Any], codes: list[str]
) -> None:
    chart.infusing()
    response = chart.vitals(**values)
    assert response.status_code == 201, response.content
    alerts = response.json()["alerts"]
    assert [a["code"] for a in alerts] == codes
    protocol = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN)
    by_code = {t.code: t for t in protocol.alerts}
    for alert in alerts:
        threshold = by_code[alert["code"]]
        assert alert["recommended_action"] == threshold.actions[0].value
        assert alert["actions"] == [a.value for a in threshold.actions]
        assert alert["message"] == threshold.message
        assert alert["source"] == threshold.source
        assert alert["acknowledged"] is False
    stored = SessionAlert.objects.filter(session=chart.session).values_list("code", flat=True)
    assert sorted(stored) == sorted(codes)


def test_predose_vitals_use_the_hold_thresholds_not_the_infusion_alerts(chart: Chart) -> None:
    chart.check_in()
    body = chart.vitals(systolic=185, diastolic=85).json()
    assert [a["code"] for a in body["alerts"]] == ["predose_sbp_high"]
    assert body["alerts"][0]["recommended_action"] == "hold"
    assert body["hold"] is True


def test_vitals_in_recovery_still_raise_alerts(chart: Chart) -> None:
    chart.in_recovery()
    body = chart.vitals(spo2=90).json()
    assert [a["code"] for a in body["alerts"]] == ["spo2_low"]


def test_acknowledging_an_alert_closes_it(chart: Chart) -> None:
    chart.infusing()
    alert = chart.vitals(heart_rate=115).json()["alerts"][0]
    response = chart.post(f"/alerts/{alert['id']}/acknowledge", {"note": "Slowed, Dr Ada called"})
    assert response.status_code == 200
    assert response.json()["acknowledged"] is True
    stored = SessionAlert.objects.get(pk=alert["id"])
    assert stored.acknowledged_by == chart.clinic.users["ben"]
    assert stored.acknowledged_at is not None
    assert chart.post("/alerts/999999/acknowledge").status_code == 404


def test_a_retried_post_with_the_same_key_stores_one_row(chart: Chart) -> None:
    chart.infusing()
    before = VitalsReading.objects.count()
    first = chart.vitals(key="tablet-7-0001", systolic=181)
    again = chart.vitals(key="tablet-7-0001", systolic=181)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert VitalsReading.objects.count() == before + 1
    assert SessionAlert.objects.filter(code="sbp_high").count() == 1
    other = chart.vitals(key="tablet-7-0002", systolic=181)
    assert other.status_code == 201
    assert VitalsReading.objects.count() == before + 2


def test_posts_without_a_key_are_each_stored(chart: Chart) -> None:
    chart.infusing()
    before = VitalsReading.objects.count()
    chart.vitals()
    chart.vitals()
    assert VitalsReading.objects.count() == before + 2


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_store_one_row(chart: Chart) -> None:
    chart.infusing()
    before = VitalsReading.objects.count()

    def post(_: int) -> int:
        try:
            return int(chart.vitals(key="same-key").status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(post, range(4)))
    assert codes == [200, 200, 200, 201]
    assert VitalsReading.objects.count() == before + 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"systolic": 20}, "systolic"),
        ({"systolic": 400}, "systolic"),
        ({"spo2": 101}, "spo2"),
        ({"heart_rate": 0}, "heart_rate"),
        ({"resp_rate": 90}, "resp_rate"),
        ({"moaas": 6}, "moaas"),
        ({"systolic": 80, "diastolic": 90}, "diastolic"),
        ({"systolic": "120"}, "systolic"),
        ({"systolic": 120.5}, "systolic"),
    ],
)
def test_implausible_values_answer_422_and_store_nothing(
    chart: Chart, values: dict[str, Any], field: str
) -> None:
    chart.infusing()
    before = (VitalsReading.objects.count(), SessionAlert.objects.count())
    audit_before = AuditEvent.objects.filter(object_type="VitalsReading").count()
    response = chart.vitals(**values)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [p["field"] for p in problems] == [field]
    assert problems[0]["msg"]
    assert (VitalsReading.objects.count(), SessionAlert.objects.count()) == before
    assert AuditEvent.objects.filter(object_type="VitalsReading").count() == audit_before


def test_vitals_without_a_utc_offset_are_refused(chart: Chart) -> None:
    chart.infusing()
    response = chart.ben.post(
        f"{chart.url}/vitals",
        NORMAL | {"at": "2026-01-05T09:30:00"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "at"


def test_each_vitals_post_is_audited_in_its_transaction(chart: Chart) -> None:
    chart.infusing()
    reading_id = chart.vitals().json()["id"]
    event = AuditEvent.objects.get(object_type="VitalsReading", object_id=str(reading_id))
    assert event.actor == chart.clinic.users["ben"]
    assert event.patient_id == chart.clinic.pat.pk


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements of a request, without the transaction control (BEGIN, COMMIT, and the
    savepoints that stand for them inside the test's own transaction)."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]


def test_a_vitals_post_takes_a_fixed_few_queries(chart: Chart) -> None:
    """Token, the locked session with the key's earlier reading, the reading, the alerts when
    any are raised, and the audit event: on PostgreSQL one statement locks the chain head,
    inserts the event and moves the head; on SQLite that is three. The chair-side tablets
    post every few minutes per chair: this is the clinic's hot path."""
    chart.infusing()
    audit = 1 if connection.vendor == "postgresql" else 3
    with CaptureQueriesContext(connection) as quiet:
        assert chart.vitals(key="pin-1").status_code == 201
    assert len(_statements(quiet)) == 3 + audit, _statements(quiet)
    with CaptureQueriesContext(connection) as alerting:
        assert chart.vitals(key="pin-2", systolic=185).status_code == 201
    assert len(_statements(alerting)) == 4 + audit, _statements(alerting)
    with CaptureQueriesContext(connection) as replay:
        assert chart.vitals(key="pin-2", systolic=185).status_code == 200
    assert len(_statements(replay)) == 4, _statements(replay)
