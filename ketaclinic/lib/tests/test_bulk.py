"""`rows_insert` and `columns_insert`: the rows stored, their keys set (or returned) in order,
on PostgreSQL by binary arrays and binary COPY (values with quotes, backslashes, JSON text, NULL
and enum members) and elsewhere by `bulk_create`."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from ketaclinic.lib.bulk import columns_insert, rows_insert
from ketaclinic.monitors.models import MessageStatus, MonitorMessage

pytestmark = pytest.mark.django_db


def _json(n: int) -> str:
    return json.dumps({"n": n, "text": 'a "b" \\ c', "list": [1, None, "x"]})


def _row(n: int) -> MonitorMessage:
    return MonitorMessage(
        raw=f'MSH|^~\\&|"quoted" {n}\rOBX|1',
        control_id=f"C{n}",
        message_type="ORU^R01",
        observed_at=timezone.now(),
        status=MessageStatus.NOTHING,
        parse_json=_json(n),
        ack_code="AA",
        readings=n,
    )


@pytest.mark.parametrize("count", [1, 3])
def test_rows_are_stored_with_their_keys_in_order(count: int) -> None:
    rows = rows_insert(MonitorMessage, [_row(n) for n in range(count)])
    assert all(row.pk is not None and not row._state.adding for row in rows)
    for n, row in enumerate(rows):
        stored = MonitorMessage.objects.get(pk=row.pk)
        assert stored.control_id == f"C{n}" and stored.readings == n
        assert stored.raw == f'MSH|^~\\&|"quoted" {n}\rOBX|1'
        assert stored.parse_result == {"n": n, "text": 'a "b" \\ c', "list": [1, None, "x"]}
        assert stored.status == "nothing" and stored.device_id is None


@pytest.mark.parametrize("count", [1, 3, 250])
def test_columns_are_stored_with_their_keys_in_order(count: int) -> None:
    """Given column by column (on PostgreSQL: keys from the sequence, then binary COPY), every
    value comes back as given, in the keys' order; a field not given takes its default."""
    before = MonitorMessage.objects.count()
    now = timezone.now()
    ids = columns_insert(
        MonitorMessage,
        {
            "raw": [f'MSH|^~\\&|"quoted" {n}\rOBX|1' for n in range(count)],
            "control_id": [f"C{n}" for n in range(count)],
            "message_type": ["ORU^R01"] * count,
            "observed_at": [now if n % 2 else None for n in range(count)],
            "status": [MessageStatus.NOTHING] * count,
            "parse_json": [_json(n) for n in range(count)],
            "ack_code": ["AA"] * count,
            "readings": list(range(count)),
        },
    )
    assert len(ids) == len(set(ids)) == count and ids == sorted(ids)
    assert MonitorMessage.objects.count() == before + count
    stored = MonitorMessage.objects.in_bulk(ids)
    for n, pk in enumerate(ids):
        row = stored[pk]
        assert row.control_id == f"C{n}" and row.readings == n
        assert row.raw == f'MSH|^~\\&|"quoted" {n}\rOBX|1'
        assert row.parse_result == {"n": n, "text": 'a "b" \\ c', "list": [1, None, "x"]}
        assert row.observed_at == (now if n % 2 else None)
        assert row.status == "nothing" and row.device_id is None and row.session_id is None
        assert row.received_at is not None  # the field's default


def test_columns_not_of_the_model_are_refused() -> None:
    with pytest.raises(ValueError, match="not fields"):
        columns_insert(MonitorMessage, {"raw": ["a", "b"], "nonsense": [1, 2]})
    with pytest.raises(ValueError, match="one value per row"):
        columns_insert(MonitorMessage, {"raw": ["a", "b"], "control_id": ["c"]})


def test_the_copy_is_seen_as_a_statement() -> None:
    """On PostgreSQL the rows go by COPY, after their keys are taken from the sequence; the
    COPY passes through Django's query log as any statement does (query-count guards see it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.lib.bulk import arrays_bound

    with CaptureQueriesContext(connection) as queries:
        columns_insert(MonitorMessage, {"raw": ["a", "b"], "status": ["nothing"] * 2})
    statements = [q["sql"] for q in queries.captured_queries]
    if arrays_bound():
        assert len(statements) == 2
        assert "nextval" in statements[0] and statements[1].startswith("COPY ")
    else:
        assert len(statements) == 1 and statements[0].startswith("INSERT")


def test_a_statement_planned_afresh_is_logged_and_never_prepared() -> None:
    """`rows_planned_afresh` (PostgreSQL): its rows, the statement in Django's query log,
    and no server-side prepared statement however often it runs (psycopg prepares a
    statement's text from its 5th execution; this one must be planned every time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.lib.bulk import rows_planned_afresh

    if connection.vendor != "postgresql":
        pytest.skip("planning afresh is psycopg's prepare=False, on PostgreSQL only")
    columns_insert(MonitorMessage, {"raw": ["a", "b", "c"], "status": ["nothing"] * 3})
    sql = "SELECT raw FROM monitors_monitormessage WHERE raw = ANY(%s) ORDER BY raw"
    with CaptureQueriesContext(connection) as queries:
        for _ in range(8):
            assert rows_planned_afresh(sql, [["a", "c", "z"]]) == [("a",), ("c",)]
    assert len(queries.captured_queries) == 8
    assert all("raw = ANY" in q["sql"] for q in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [text for (text,) in cursor.fetchall()]
    assert not any("raw = ANY" in text for text in prepared), prepared
