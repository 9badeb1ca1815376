"""Concurrent draws through the API: the container row lock (PostgreSQL) or the immediate
transaction (SQLite) serialises them, so the balance never goes below zero."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from ketaclinic.ledger.models import EntryKind, LedgerEntry
from ketaclinic.ledger.selectors import container_ledger, ledger_verify
from ketaclinic.ledger.tests.conftest import location_make, receive, session_make
from ketaclinic.testing import Clinic

THREADS = 20


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_draws_of_1_ml_from_a_10_ml_vial_exactly_ten_succeed(
    clinic: Clinic,
) -> None:
    location = location_make(clinic)
    (vial,) = receive(clinic, location, volume="10")
    session = session_make(clinic)
    token = clinic.token("ben")
    url = f"/api/v1/ledger/containers/{vial.pk}/draws"
    body = json.dumps({"session": str(session.pk), "volume_ml": "1"})
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(timeout=30)
            response = client.post(url, body, content_type="application/json")
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(statuses) == [201] * 10 + [409] * 10, statuses
    assert LedgerEntry.objects.filter(container=vial, kind=EntryKind.DRAW).count() == 10
    current = container_ledger(vial).current
    assert current.balance.ml == Decimal("0")
    assert current.in_container_ml >= 0
    assert ledger_verify() == []
