"""Administrators browse and filter the audit trail, in the web UI and through the API."""

from __future__ import annotations

from ketaclinic.audit.models import AuditEvent
from ketaclinic.testing import Clinic


def _read_both(clinic: Clinic) -> None:
    client = clinic.api("ben")
    assert client.get(f"/api/v1/patients/{clinic.pat.pk}").status_code == 200
    assert client.get(f"/api/v1/patients/{clinic.quinn.pk}").status_code == 200


def test_api_filters_the_log_by_patient_newest_first(clinic: Clinic) -> None:
    _read_both(clinic)
    response = clinic.api("dana").get(f"/api/v1/audit?patient={clinic.pat.pk}")
    assert response.status_code == 200
    events = response.json()
    assert events, "Pat's create and read events"
    assert {e["patient_id"] for e in events} == {str(clinic.pat.pk)}
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)
    assert events[0]["action"] == "R"
    assert events[0]["actor"] == clinic.users["ben"].pk
    expected = AuditEvent.objects.filter(patient_id=clinic.pat.pk).count()
    assert len(events) == expected


def test_api_filters_by_action_and_pages_with_before_seq(clinic: Clinic) -> None:
    _read_both(clinic)
    client = clinic.api("dana")
    reads = client.get("/api/v1/audit?action=R").json()
    assert reads
    assert {e["action"] for e in reads} == {"R"}
    first = client.get("/api/v1/audit?limit=2").json()
    older = client.get(f"/api/v1/audit?limit=2&before_seq={first[-1]['seq']}").json()
    assert all(e["seq"] < first[-1]["seq"] for e in older)


def test_api_refuses_bad_filters_with_field_paths(clinic: Clinic) -> None:
    client = clinic.api("dana")
    for query, field in (("patient=nope", "patient"), ("action=X", "action"), ("limit=0", "limit")):
        response = client.get(f"/api/v1/audit?{query}")
        assert response.status_code == 422, query
        assert field in {p["field"] for p in response.json()["detail"]}


def test_admin_page_lists_and_filters_events(clinic: Clinic) -> None:
    _read_both(clinic)
    client = clinic.client("dana")
    page = client.get("/audit/")
    assert page.status_code == 200
    assert b"Audit trail" in page.content
    filtered = client.get(f"/audit/?patient={clinic.quinn.pk}&action=R").content.decode()
    # Names, roles and actions in words for the administrator; only Quinn's events.
    assert "Sample, Quinn" in filtered
    assert "Example, Pat" not in filtered
    assert "Viewed" in filtered and "Infusion nurse" in filtered
    assert ">R<" not in filtered


def test_the_patient_filter_is_posted_and_the_url_carries_no_name_or_mrn(clinic: Clinic) -> None:
    _read_both(clinic)
    client = clinic.client("dana")
    answer = client.post("/audit/", {"patient_mrn": clinic.quinn.mrn, "action": "R"})
    assert answer.status_code == 302
    location = answer["Location"]
    assert f"patient={clinic.quinn.pk}" in location
    for secret in (clinic.quinn.mrn, "Quinn", "Sample"):
        assert secret not in location
    page = client.get(location).content.decode()
    assert "Showing: Sample, Quinn" in page
    unknown = client.post("/audit/", {"patient_mrn": "NOPE"})
    assert "No events match" in client.get(unknown["Location"]).content.decode()


def test_filters_by_person_kind_and_dates(clinic: Clinic) -> None:
    _read_both(clinic)
    client = clinic.client("dana")
    ben = clinic.users["ben"]
    page = client.get(f"/audit/?actor={ben.pk}&kind=Patient")
    rows = page.context["rows"]
    assert rows and all(r.event.actor_id == ben.pk and r.kind == "Patient" for r in rows)
    future = client.get("/audit/?from=2999-01-01").content.decode()
    assert "No events match" in future


def test_the_audit_page_queries_stay_fixed(clinic: Clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = clinic.client("dana")
    _read_both(clinic)
    client.get("/audit/")
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/")
    for _ in range(5):
        _read_both(clinic)
    with CaptureQueriesContext(connection) as many:
        client.get("/audit/")
    assert len(many) == len(few)
