"""`ketaclinic audit verify`: intact on a normal database, broken after tampering, never forked."""

from __future__ import annotations

import json
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import Client

from ketaclinic.audit.models import Action, AuditChainHead, AuditEvent
from ketaclinic.audit.services import AuditTarget, audit_record, event_payload
from ketaclinic.audit.verify import audit_verify
from ketaclinic.lib.hashchain import chain_hash
from ketaclinic.testing import Clinic, make_clinic, make_patient


def _verify() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def _busy_clinic(clinic: Clinic) -> None:
    client = clinic.api("ada")
    for i in range(5):
        response = client.get(f"/api/v1/patients/{clinic.pat.pk}")
        assert response.status_code == 200
        client.patch(
            f"/api/v1/patients/{clinic.quinn.pk}",
            data=json.dumps({"pronouns": f"they/them {i}"}),
            content_type="application/json",
        )
    assert client.get("/api/v1/patients").status_code == 200


def test_verify_passes_on_a_normal_database(clinic: Clinic) -> None:
    _busy_clinic(clinic)
    count = AuditEvent.objects.count()
    assert count > 10
    assert f"{count} events verified" in _verify()


def test_verify_passes_on_an_empty_database(db: Any) -> None:
    assert "0 events verified" in _verify()


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _middle(clinic: Clinic) -> AuditEvent:
    _busy_clinic(clinic)
    events = list(AuditEvent.objects.order_by("seq"))
    return events[len(events) // 2]


def test_verify_fails_naming_an_edited_event(clinic: Clinic) -> None:
    victim = _middle(clinic)
    _raw("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["D", victim.pk])
    with pytest.raises(CommandError, match=rf"seq={victim.seq} \(id={victim.pk}\).*content"):
        _verify()


def test_verify_fails_when_an_edited_event_had_its_hash_recomputed(clinic: Clinic) -> None:
    victim = _middle(clinic)
    _raw("UPDATE audit_auditevent SET hash = %s WHERE id = %s", ["f" * 64, victim.pk])
    with pytest.raises(CommandError, match=rf"seq={victim.seq}\b"):
        _verify()


def test_verify_fails_naming_the_gap_of_a_deleted_event(clinic: Clinic) -> None:
    victim = _middle(clinic)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=rf"seq={victim.seq + 1}.*expected seq={victim.seq}"):
        _verify()


def test_verify_fails_when_the_last_event_is_deleted(clinic: Clinic) -> None:
    _busy_clinic(clinic)
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    with pytest.raises(CommandError, match=rf"head says seq={last.seq}"):
        _verify()


def test_verify_fails_naming_an_inserted_event(clinic: Clinic) -> None:
    victim = _middle(clinic)
    # Make room in the sequence, then slip a forged event in behind the application's back.
    _raw("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq > %s", [victim.seq])
    _raw(
        "INSERT INTO audit_auditevent (seq, at, actor_id, actor_role, action, object_type, "
        "object_id, patient_id, request_id, client_address, prev_hash, hash) "
        "VALUES (%s, %s, NULL, 'system', 'R', 'Patient', 'x', NULL, '', '', %s, %s)",
        [victim.seq + 1, victim.at, victim.hash, "e" * 64],
    )
    with pytest.raises(CommandError, match=rf"seq={victim.seq + 1} \(id=\d+\)"):
        _verify()


def test_events_refuse_update_and_delete_through_the_orm(clinic: Clinic) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "D"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_api_writes_never_fork_the_chain() -> None:
    clinic = make_clinic()
    token = clinic.token("cleo")
    start = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait(timeout=30)
            body = {
                "given_name": f"Concurrent{i}",
                "family_name": "Writer",
                "birth_date": "1990-01-01",
                "sex_at_birth": "unknown",
            }
            response = client.post(
                "/api/v1/patients", data=json.dumps(body), content_type="application/json"
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [201] * 20
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    creates = AuditEvent.objects.filter(action="C", object_type="Patient").count()
    assert creates == 2 + 20  # Pat and Quinn, then the twenty concurrent patients
    head = AuditChainHead.objects.get(pk=1)
    assert head.seq == len(seqs)
    assert audit_verify() is None
    assert f"{len(seqs)} events verified" in _verify()


def test_events_carry_request_id_and_address_but_no_data(clinic: Clinic) -> None:
    patient = make_patient(given_name="Zelda", family_name="Quux")
    client = clinic.client("ben")
    response = client.get(f"/patients/{patient.pk}/", HTTP_X_REQUEST_ID="req-12345678")
    assert response.status_code == 200
    assert response["X-Request-ID"] != "req-12345678"  # the app's own id (issue 18 item 10)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.action, event.object_type, event.patient_id) == ("R", "Patient", patient.pk)
    assert (event.actor_id, event.actor_role) == (clinic.users["ben"].pk, "nurse")
    assert event.request_id == response["X-Request-ID"]
    assert event.client_address == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_a_batch_appended_from_plain_values_chains_as_model_instances_do() -> None:
    """`audit_record_batch` (the monitor feed's readings: no model instances) writes events
    whose payloads and hashes are those `event_payload` gives for the stored rows, between
    events written the usual way; the chain verifies."""
    from uuid import uuid4

    from ketaclinic.audit.services import CHAINED_MAX, audit_record_batch

    patient = uuid4()
    audit_record(actor=None, action=Action.CREATE, object_type="X", object_id=1, patient_id=None)
    targets = [
        AuditTarget("VitalsReading", str(n), patient if n % 2 else None)
        for n in range(CHAINED_MAX + 5)
    ]
    with transaction.atomic():
        assert audit_record_batch(actor=None, action=Action.CREATE, targets=targets) == len(targets)
    audit_record(actor=None, action=Action.UPDATE, object_type="X", object_id=1, patient_id=None)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.object_id for r in rows[1:-1]] == [t.object_id for t in targets]
    assert [r.patient_id for r in rows[1:-1]] == [t.patient_id for t in targets]
    for row in rows:
        assert row.hash == chain_hash(row.prev_hash, event_payload(row))
    assert audit_verify() is None
