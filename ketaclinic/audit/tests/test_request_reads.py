"""A page's reads of patient data are written together, before the page is sent: every read
still leaves its event (with the request's id, in the order read), and a page whose reads
cannot be recorded is not shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit import services
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.testing import Clinic, make_patient


def _last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def test_a_pages_reads_are_all_recorded_in_one_write_with_the_requests_id(
    clinic: Clinic,
) -> None:
    patient = make_patient(given_name="Zelda", family_name="Quux")
    client = clinic.client("ada")
    client.get(f"/patients/{patient.pk}/")  # warm-up
    before = _last_seq()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    # The record itself first (read first), then the rest of the page's reads.
    assert events and events[0].object_type == "Patient" and events[0].patient_id == patient.pk
    assert {e.action for e in events} == {Action.READ}
    assert {e.request_id for e in events} == {response["X-Request-ID"]}
    assert [e.at for e in events] == sorted(e.at for e in events)
    if connection.vendor == "postgresql":  # one statement for all of them
        inserts = [q for q in captured.captured_queries if "audit_auditevent" in q["sql"]]
        assert len(inserts) == 1, [q["sql"][:80] for q in inserts]
    assert audit_verify() is None


def test_reads_outside_a_page_request_are_written_at_once(clinic: Clinic) -> None:
    patient = make_patient()
    before = _last_seq()
    services.audit_record(
        actor=clinic.users["ada"],
        action=Action.READ,
        object_type="Patient",
        object_id=patient.pk,
        patient_id=patient.pk,
    )
    assert _last_seq() == before + 1


def test_a_page_whose_reads_cannot_be_recorded_is_not_shown(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = make_patient(given_name="Zelda", family_name="Quux")
    client = clinic.client("ada")
    client.raise_request_exception = False

    def broken(events: list[Any]) -> None:
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr("ketaclinic.audit.middleware.audit_reads_flush", broken)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 500
    assert b"Zelda" not in response.content and b"Quux" not in response.content
