"""A FHIR search page is one audited read per patient naming every record shown (issue 16:
was one event per record): the chain covers the ids (tampering with them is found), the
administrator's page and the FHIR AuditEvent show them, and "who read this record" (the
AuditEvent search by entity) still finds the page that showed it."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.selectors import events_naming
from ketaclinic.audit.services import AuditTarget, audit_record_many, page_target
from ketaclinic.audit.verify import audit_verify
from ketaclinic.fhir.tests.test_fast_search import _record
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _search(clinic: Clinic, count: int = 20) -> tuple[Any, list[str], AuditEvent]:
    patient = _record(clinic)
    before = AuditEvent.objects.count()
    response = clinic.api("ben").get(f"/fhir/R4/Observation?patient={patient.pk}&_count={count}")
    assert response.status_code == 200
    shown = [e["resource"]["id"] for e in response.json()["entry"] if "resource" in e]
    assert len(shown) == count
    (event,) = AuditEvent.objects.order_by("seq")[before:]
    return patient, shown, event


def test_a_search_page_is_one_read_naming_every_record_shown(clinic: Clinic) -> None:
    patient, shown, event = _search(clinic)
    assert event.action == "R" and event.object_type == "Observation"
    assert event.patient_id == patient.pk
    assert event.object_id == "" and event.object_id_list == shown
    assert event.actor_id == clinic.users["ben"].pk
    assert audit_verify() is None


def test_a_page_of_one_record_is_named_as_any_read(clinic: Clinic) -> None:
    _patient, shown, event = _search(clinic, count=1)
    assert event.object_id == shown[0] and event.object_ids == ""
    assert page_target("Observation", shown, None) == AuditTarget("Observation", shown[0], None)
    with pytest.raises(ValueError, match="white space"):
        page_target("Observation", ["a b", "c"], None)


def _verify() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("forged", ["drop-one", "emptied", "swapped"])
def test_verify_finds_a_page_whose_ids_were_changed(clinic: Clinic, forged: str) -> None:
    _patient, shown, event = _search(clinic)
    assert "events verified" in _verify()
    ids = {
        "drop-one": " ".join(shown[1:]),
        "emptied": "",
        "swapped": " ".join([shown[1], shown[0], *shown[2:]]),
    }[forged]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET object_ids = %s WHERE id = %s", [ids, event.pk])
    with pytest.raises(CommandError, match=rf"seq={event.seq} \(id={event.pk}\).*content"):
        _verify()


def test_an_event_written_without_ids_keeps_its_hash(clinic: Clinic) -> None:
    """Events of one record (and all written before the ids existed) hash as they did: the
    payload has no ``object_ids`` key unless there are some."""
    (event,) = audit_record_many(
        actor=None, action="R", targets=[AuditTarget("Patient", str(clinic.pat.pk), clinic.pat.pk)]
    )
    from ketaclinic.audit.services import event_payload

    assert "object_ids" not in event_payload(event)
    assert audit_verify() is None


def test_who_read_this_record_finds_the_page(clinic: Clinic) -> None:
    _patient, shown, event = _search(clinic)
    for record in (shown[0], shown[7], shown[-1]):
        assert list(AuditEvent.objects.filter(events_naming(["Observation"], record))) == [event]
    assert not AuditEvent.objects.filter(events_naming(["Observation"], shown[0][:-1])).exists()
    dana = clinic.api("dana")
    found = dana.get(f"/fhir/R4/AuditEvent?entity=Observation/{shown[7]}").json()
    ids = [e["resource"]["id"] for e in found.get("entry", []) if "resource" in e]
    assert ids == [f"audit-{event.seq}"]


def test_the_fhir_audit_event_names_each_record(clinic: Clinic) -> None:
    patient, shown, event = _search(clinic)
    resource = clinic.api("dana").get(f"/fhir/R4/AuditEvent/audit-{event.seq}").json()
    named = [e["what"].get("reference") for e in resource["entity"]]
    assert named == [f"Observation/{i}" for i in shown] + [f"Patient/{patient.pk}"]


def test_the_audit_api_and_page_show_the_ids(clinic: Clinic) -> None:
    patient, shown, event = _search(clinic)
    rows = clinic.api("dana").get(f"/api/v1/audit?patient={patient.pk}&limit=5").json()
    mine = next(r for r in rows if r["seq"] == event.seq)
    assert mine["object_ids"] == shown and mine["object_id"] == ""
    page = clinic.client("dana").get(f"/audit/?patient={patient.pk}")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Observation (20 records)" in text
    assert ", ".join(shown) in text
    assert json.dumps(shown[0]).strip('"') in text
