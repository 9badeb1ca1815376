"""`rows_insert`: Django's `bulk_create` for hot paths on PostgreSQL, each column bound as one
binary array in a statement of fixed text.

Why (issue 17, the monitor feed's batches; bench/README.md): Django 5.2's bulk insert on
PostgreSQL binds each column as a *text* array, and psycopg escapes every quote and backslash
of every value into it by regular expression (raw HL7 messages and their JSON parse results:
116 ms for 200 rows against 39 ms with binary arrays), after Django has compiled the insert
for that number of rows. Binary arrays need no escaping, and the statement's text is the same
for any number of rows, so psycopg caches it and PostgreSQL prepares it.

`columns_insert` takes the rows column by column (no model instances: the feed's batch made
two model instances a message, ~25 us each) and returns their keys. It writes them by binary
COPY, the keys taken from the table's sequence first: psycopg formats a COPY row in C, where
an array parameter is dumped element by element in Python (~40 us a monitor message for its
message, vitals and audit rows; issue 17).

Only for plain models: no multi-table inheritance, the primary key made by the database. On
any other database, or when parameters are not bound by the server (settings.py), or for one
row, it is `bulk_create`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateTimeField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
        "UUIDField",
    }
)
"""Fields whose Python value psycopg binds as it is (text, int, bool, aware datetime, UUID,
None): Django's per-value preparation is skipped for them; every other field goes through
`get_db_prep_save` (JSON, decimals, dates...)."""


@functools.cache
def _insert_sql(model: type[models.Model]) -> tuple[str, tuple[Any, ...]]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    columns = ", ".join(str(f.column) for f in fields)
    arrays = ", ".join(f"%b::{str(f.db_type(connection)).split('(')[0]}[]" for f in fields)
    # Only the model's own table, column and type names are put into the text.
    sql = (
        f"INSERT INTO {meta.db_table} ({columns}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING {meta.pk.column}"
    )
    return sql, fields


@functools.cache
def _copy_plan(model: type[models.Model]) -> tuple[str, tuple[Any, ...], tuple[str, ...], str]:
    """COPY's text (the key first, then every other concrete field), the fields, their
    PostgreSQL types for `set_types`, and the key's sequence."""
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    columns = ", ".join([str(meta.pk.column), *(str(f.column) for f in fields)])
    types = tuple(str(f.db_type(connection)).split("(")[0] for f in (meta.pk, *fields))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
        (sequence,) = cursor.fetchone() or (None,)
    if not sequence:
        raise ValueError(f"{model.__name__}: its key is not made by a sequence")
    # Only the model's own table and column names are put into the text.
    return f"COPY {meta.db_table} ({columns}) FROM STDIN (FORMAT BINARY)", fields, types, sequence


def _keys_taken(sequence: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(sql: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """`COPY ... FROM STDIN (FORMAT BINARY)` of these rows (values as psycopg binds them,
    `types` their PostgreSQL types), on Django's connection, in its transaction. It goes
    through Django's execute wrappers and, when queries are logged, its query log, as any
    statement does (the tests' query counts see it)."""

    def copy(sql: str, _params: Any, _many: bool, _context: Any) -> None:
        with cursor.cursor.copy(sql) as copying:  # psycopg's own cursor, under Django's
            copying.set_types(list(types))
            for row in rows:
                copying.write_row(row)

    with connection.cursor() as cursor:
        logged = getattr(cursor, "debug_sql", None)  # Django's debug cursor (queries logged)
        with logged(sql) if logged is not None else contextlib.nullcontext():
            cursor._execute_with_wrappers(sql, None, False, copy)


def rows_planned_afresh(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one statement that PostgreSQL plans for each execution (psycopg's
    `prepare=False`), on Django's connection, through its execute wrappers and query log.

    For a read of a table that grows fast from empty (the vitals during a monitor burst): a
    prepared statement's generic plan is kept, and one made while the table held a few
    hundred rows (a hash join over all of it) was kept as it grew to tens of thousands, 88 us
    a monitor message (issue 17; bench/README.md). Planned each time, the plan sees the
    table's size now (its pages are counted at planning, ANALYZE or not)."""

    def run(sql: str, params: Any, _many: bool, _context: Any) -> None:
        cursor.cursor.execute(sql, params, prepare=False)  # psycopg's own cursor

    with connection.cursor() as cursor:
        logged = getattr(cursor, "debug_sql", None)  # Django's debug cursor (queries logged)
        with logged(sql, params) if logged is not None else contextlib.nullcontext():
            cursor._execute_with_wrappers(sql, params, False, run)
        return list(cursor.fetchall())


def arrays_bound() -> bool:
    """Whether binary arrays can be bound: PostgreSQL with server-side binding."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and bool(options.get("server_side_binding"))


def array_mark() -> str:
    """The placeholder for an array parameter: `%b` (binary) where parameters are bound by
    the server (`arrays_bound`), else `%s`. psycopg dumps a list in text format element by
    element with a regular expression each (quoting), in binary without (issue 17)."""
    return "%b" if arrays_bound() else "%s"


def rows_insert(model: type[M], rows: list[M]) -> list[M]:
    """Insert the rows (new instances of `model`) in one statement; their primary keys are
    set, in order (PostgreSQL returns an INSERT ... SELECT's rows in the order selected, as
    Django's own UNNEST insert relies on)."""
    if len(rows) < 2 or not arrays_bound() or model._meta.parents:
        return model._default_manager.bulk_create(rows)
    sql, fields = _insert_sql(model)
    columns = [
        [f.pre_save(row, True) for row in rows]
        if f.get_internal_type() in PLAIN_TYPES
        else [f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows]
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
    return rows


def columns_insert(model: type[models.Model], columns: Mapping[str, Sequence[Any]]) -> list[Any]:
    """Insert rows given column by column (field attname -> one value per row, every list the
    same length; a field not given takes its default) in one statement, without model
    instances; their primary keys, in order. Values are what the model's fields hold (a
    dict for a JSON field, an aware datetime...); elsewhere than PostgreSQL with binary
    arrays, instances are made and `bulk_create` stores them."""
    count = len(next(iter(columns.values()))) if columns else 0
    if any(len(values) != count for values in columns.values()):
        raise ValueError("every column must have one value per row")
    if not count:
        return []
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    unknown = set(columns) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"not fields of {model.__name__}: {sorted(unknown)}")
    if not arrays_bound() or model._meta.parents:
        made = [
            model(**{name: values[i] for name, values in columns.items()}) for i in range(count)
        ]
        return [row.pk for row in model._default_manager.bulk_create(made)]
    sql, fields, types, sequence = _copy_plan(model)
    arrays: list[Sequence[Any]] = []
    for f in fields:
        given = columns.get(f.attname)
        values: Sequence[Any] = given if given is not None else [f.get_default()] * count
        if f.get_internal_type() not in PLAIN_TYPES:
            values = [f.get_db_prep_save(v, connection) for v in values]
        arrays.append(values)
    ids = _keys_taken(sequence, count)
    copy_rows(sql, types, zip(ids, *arrays, strict=True))
    return ids


def any_of(values: Sequence[Any], pg_type: str) -> tuple[str, list[Any]]:
    """SQL for "the column is one of `values`" and its parameters: on PostgreSQL
    `IN (SELECT unnest(%s))` with one array (the same text for any count, so that psycopg
    caches it and the server prepares it; Django's `__in` makes a new text per count; and a
    semi-join, where `= ANY(%s)` of a prepared statement's parameter compared each row with
    the whole array: 200 monitors x 201 ids, 5.5 us a monitor message; issue 17), elsewhere
    `IN (%s, ...)`. `pg_type` is the values' PostgreSQL type (the array's, for unnest)."""
    if connection.vendor == "postgresql":
        return f"IN (SELECT unnest({array_mark()}::{pg_type}[]))", [list(values)]
    if not values:
        return "IN (NULL)", []
    return "IN (" + ", ".join(["%s"] * len(values)) + ")", list(values)
