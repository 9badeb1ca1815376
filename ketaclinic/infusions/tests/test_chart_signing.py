"""Signing: the nurse and the clinician sign, the record is frozen as canonical JSON with its
SHA-256, every later write answers 409 through the API and the pages, addenda are kept beside
it, the digest verifies by recomputing, and the ledger's problems refuse signing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.infusions.chart_services import signed_record_verify
from ketaclinic.infusions.chart_snapshot import session_snapshot
from ketaclinic.infusions.models import (
    Addendum,
    ChartEntry,
    SessionAlert,
    SignedRecord,
    VitalsReading,
)
from ketaclinic.infusions.tests.chart_driver import Chart
from ketaclinic.lib.hashchain import canonical_json, digest

pytestmark = pytest.mark.django_db

NOW = "2026-01-05T09:30:00+00:00"

EVERY_API_WRITE: list[tuple[str, dict[str, object]]] = [
    ("/check-in", {}),
    (
        "/pre-checks",
        {
            "identity_confirmed": True,
            "consent_current": True,
            "fasting": True,
            "escort_confirmed": True,
            "pregnancy_test": "negative",
            "questionnaires_done": True,
            "weight_kg": 70,
            "weight_measured_at": NOW,
        },
    ),
    ("/clinician-review", {"reason": "late"}),
    ("/dose", {"weight_kg": 70, "concentration_mg_per_ml": 10}),
    ("/dose/second-check", {"username": "ada", "password": "x"}),
    ("/start", {}),
    ("/infusion", {"action": "pause", "reason": "late"}),
    ("/stop", {"administered_volume_ml": 1}),
    (
        "/vitals",
        {
            "at": NOW,
            "systolic": 185,
            "diastolic": 80,
            "heart_rate": 70,
            "spo2": 97,
            "resp_rate": 12,
        },
    ),
    ("/side-effects", {"at": NOW, "effect": "nausea", "severity": "mild"}),
    ("/assessments", {"at": NOW, "instrument": "moaas", "score": 5}),
    ("/discharge", {"aldrete": 10, "escort_present": True, "instructions_given": True}),
    ("/sign", {}),
]


def test_signing_freezes_the_record_with_its_digest(chart: Chart) -> None:
    chart.signed()
    record = SignedRecord.objects.get(session=chart.session)
    snapshot = json.loads(record.snapshot_json)
    assert record.snapshot_json == canonical_json(snapshot)
    assert record.sha256 == digest(snapshot)
    assert [s["role"] for s in snapshot["signatures"]] == ["nurse", "clinician"]
    assert snapshot["administered_mg"] == "36.3"
    assert signed_record_verify(chart.refresh())
    body = chart.ben.get(chart.url).json()
    assert (body["status"], body["signed_sha256"], body["verified"]) == (
        "signed",
        record.sha256,
        True,
    )


def test_the_digest_detects_a_change_made_behind_the_charts_back(chart: Chart) -> None:
    chart.signed()
    VitalsReading.objects.filter(session=chart.session).update(systolic_mmhg=119)
    assert not signed_record_verify(chart.refresh())
    assert chart.ben.get(chart.url).json()["verified"] is False


@pytest.mark.parametrize(("path", "body"), EVERY_API_WRITE)
def test_a_signed_session_refuses_every_api_write_with_409(
    chart: Chart, path: str, body: dict[str, object]
) -> None:
    chart.signed()
    before = session_snapshot(chart.refresh())
    response = chart.post(path, body, who="ada" if path == "/clinician-review" else "ben")
    assert response.status_code == 409, response.content
    assert "signed" in response.json()["detail"]
    assert session_snapshot(chart.refresh()) == before
    assert signed_record_verify(chart.session)


def test_a_signed_session_refuses_acknowledging_an_alert(chart: Chart) -> None:
    chart.infusing()
    alert = chart.vitals(systolic=185).json()["alerts"][0]
    chart.stop()
    from datetime import timedelta

    ChartEntry.objects.filter(session=chart.session, kind="infusion_stop").update(
        at=timezone.now() - timedelta(minutes=61)
    )
    chart.discharge()
    note = {"note": "Paused, BP rechecked 150/90, Dr Ada called"}
    assert chart.post(f"/alerts/{alert['id']}/acknowledge", note).status_code == 200
    assert chart.post("/sign").status_code == 200
    assert chart.post("/sign", who="ada").status_code == 200
    again = {"note": "A later change"}
    response = chart.post(f"/alerts/{alert['id']}/acknowledge", again, who="ada")
    assert response.status_code == 409
    stored = SessionAlert.objects.get(pk=alert["id"])
    assert stored.acknowledgement_note == note["note"]
    assert stored.acknowledged_by == chart.clinic.users["ben"]


def test_a_signed_session_refuses_every_page_write_with_409(chart: Chart) -> None:
    chart.signed()
    ben = chart.clinic.client("ben")
    ada = chart.clinic.client("ada")
    base = f"/infusions/sessions/{chart.session.pk}"
    vitals = {"systolic": 120, "diastolic": 80, "heart_rate": 70, "spo2": 98, "resp_rate": 12}
    assert ben.post(f"{base}/vitals/", vitals).status_code == 409
    assert ben.post(f"{base}/sign/").status_code == 409
    assert ada.post(f"{base}/sign/").status_code == 409
    alert_id = SessionAlert.objects.filter(session=chart.session).values_list("pk", flat=True)
    assert list(alert_id) == []
    assert ben.post(f"{base}/alerts/1/acknowledge/").status_code == 409
    assert VitalsReading.objects.filter(session=chart.session).count() == 1
    assert signed_record_verify(chart.refresh())


def test_an_addendum_is_kept_beside_the_signed_record(chart: Chart) -> None:
    chart.signed()
    record = SignedRecord.objects.get(session=chart.session)
    response = chart.post("/addenda", {"text": "Patient phoned: slept well."})
    assert response.status_code == 201
    assert response.json()["record_sha256"] == record.sha256
    page = chart.clinic.client("ada").post(
        f"/infusions/sessions/{chart.session.pk}/addenda/", {"text": "Reviewed next day."}
    )
    assert page.status_code == 302
    assert list(Addendum.objects.values_list("text", flat=True)) == [
        "Patient phoned: slept well.",
        "Reviewed next day.",
    ]
    record.refresh_from_db()
    assert signed_record_verify(chart.refresh())
    body = chart.ben.get(chart.url).json()
    assert [a["text"] for a in body["addenda"]] == [
        "Patient phoned: slept well.",
        "Reviewed next day.",
    ]
    assert body["verified"] is True


def test_an_addendum_before_signing_is_refused(chart: Chart) -> None:
    chart.discharged()
    assert chart.post("/addenda", {"text": "too early"}).status_code == 409


def test_one_signature_per_role_and_only_nurses_and_clinicians_sign(chart: Chart) -> None:
    chart.discharged()
    assert chart.post("/sign", who="dana").status_code == 403
    assert chart.post("/sign").status_code == 200
    assert chart.post("/sign").status_code == 409
    assert chart.refresh().status == "discharged"


def test_signing_is_refused_with_the_ledgers_problems(ledger_chart: Chart) -> None:
    """3.63 mL drawn, 3 mL given and the rest never wasted: the ledger does not balance."""
    ledger_chart.infusing()
    assert ledger_chart.stop(3.0).status_code == 200
    ChartEntry.objects.filter(session=ledger_chart.session, kind="infusion_stop").update(
        at=timezone.now() - timedelta(minutes=61)
    )
    assert ledger_chart.discharge().status_code == 200
    response = ledger_chart.post("/sign")
    assert response.status_code == 409
    assert "0.63 mL is not accounted for" in " ".join(response.json()["reasons"])
    assert ledger_chart.refresh().status == "discharged"


def test_the_chart_page_and_the_pdf_show_the_signed_record(chart: Chart) -> None:
    chart.signed()
    client = chart.clinic.client("ben")
    page = client.get(f"/infusions/sessions/{chart.session.pk}/")
    assert page.status_code == 200
    record = SignedRecord.objects.get(session=chart.session)
    assert record.sha256 in page.content.decode()
    assert "digest verified" in page.content.decode()
    pdf = client.get(f"/infusions/sessions/{chart.session.pk}/record.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
