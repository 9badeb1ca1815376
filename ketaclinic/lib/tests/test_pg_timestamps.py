"""The timestamptz loader of lib/pg_timestamps.py gives what Django's own loader gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, connections

from ketaclinic.lib.pg_timestamps import loader_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="psycopg's loaders: PostgreSQL only (SQLite returns text Django parses)",
    ),
]

VALUES = [
    "2026-12-03 17:59:57.298187+00",
    "2026-06-30 23:59:59.999999+00",
    "2026-03-29 01:30:00+01",  # another offset, read in the connection's zone
    "1999-12-31 23:00:00-05",
    "2000-02-29 12:00:00.5+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read(values: list[str]) -> list[datetime]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [values],
        )
        return [row[0] for row in cursor.fetchall()]


def test_every_connection_reads_timestamps_with_the_fast_loader() -> None:
    connection.ensure_connection()
    registered = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert registered is loader_for(connection.timezone)
    assert registered.timezone is connection.timezone


def test_the_fast_loader_gives_what_djangos_loader_gives() -> None:
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    fast = _read(VALUES)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's, on this cursor only
        cursor.execute(
            "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [VALUES],
        )
        django_read = [row[0] for row in cursor.fetchall()]
    assert fast == django_read
    assert [value.tzinfo for value in fast] == [value.tzinfo for value in django_read]
    assert all(value.tzinfo == UTC for value in fast)
    assert fast[0] == datetime(2026, 12, 3, 17, 59, 57, 298187, tzinfo=UTC)
    assert fast[2] == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert fast[3] == datetime(2000, 1, 1, 4, 0, tzinfo=UTC)


def test_a_cursor_in_another_zone_still_gets_djangos_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Django's create_cursor re-registers its own loader when the connection's zone differs
    # from the registered loader's: the fast loader's ``timezone`` attribute keeps that working.
    other = timezone(timedelta(hours=2))
    wrapper = connections["default"]
    wrapper.ensure_connection()
    monkeypatch.setattr(type(wrapper), "timezone", property(lambda self: other))
    with wrapper.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(1184, 0)
        assert loader is not None and loader.timezone is other
        cursor.execute("SELECT '2026-12-03 12:00:00+00'::timestamptz")
        (value,) = cursor.fetchone()
    assert value.tzinfo is other  # Django's replace(tzinfo=...), as before


def test_null_and_many_rows_read_back() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN n % 7 = 0 THEN NULL ELSE "
            "'2026-01-01 00:00:00+00'::timestamptz + n * interval '1 minute' END "
            "FROM generate_series(1, 500) AS n ORDER BY n"
        )
        rows = [row[0] for row in cursor.fetchall()]
    assert rows[6] is None
    assert rows[0] == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert rows[-1] == datetime(2026, 1, 1, 8, 20, tzinfo=UTC)
