"""Keeping the outcome rows current: database triggers mark a patient dirty whenever a row their
outcomes are computed from is written, in the writer's own transaction.

What the outcome rows of a course read, and so what marks its patient (``DirtyPatient``):
- the patient's scores (``scales`` administrations: patient, instrument, total, time);
- the course's sessions (which were given and when: course, status, start);
- the course itself (patient, protocol, who started it);
- the patient's evaluations (the diagnoses give the disorder: patient, input, time);
- the protocol's code, route and mg/kg dose (every patient with a course on it);
- the chart of each session, which the per-session safety rows read: its vitals (values, phase,
  time, source, confirmation, artefact), its chart entries (start, stop, pauses, assessments,
  side effects) and its dose checks (amount, planned minutes). Alerts are counted live from
  their own table, joined to the safety rows of the sessions given, so they need no mark.
Inserts, deletes and updates of those columns all mark; other columns (notes, answers) do not.

They are triggers, not Django signals, because signals miss ``QuerySet.update()``, bulk writes,
raw SQL and COPY, and a missed write is a stale figure shown as current. A later migration that
rebuilds one of these tables (SQLite remakes a table to alter it) drops its triggers: so they are
installed after every ``migrate`` and ``outcomes_current`` checks they are all there before it
trusts the rows (if one is missing it reinstalls them and rebuilds everything).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import connection as default_connection
from django.db.models import UUIDField

from ketaclinic.courses.models import Course, Protocol
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.infusions.models import ChartEntry, DoseCheck, Session, VitalsReading
from ketaclinic.outcomes.models import DirtyPatient, OutcomeRefresh, RefreshScope
from ketaclinic.scales.models import Administration

PREFIX = "oc_dirty_"


def _tables() -> dict[str, str]:
    return {
        "dirty": DirtyPatient._meta.db_table,
        "administration": Administration._meta.db_table,
        "session": Session._meta.db_table,
        "course": Course._meta.db_table,
        "evaluation": Evaluation._meta.db_table,
        "protocol": Protocol._meta.db_table,
        "vitals": VitalsReading._meta.db_table,
        "chartentry": ChartEntry._meta.db_table,
        "dosecheck": DoseCheck._meta.db_table,
    }


# The patient of a row of a session's chart.
SESSION_PATIENT = (
    "SELECT c.patient_id FROM {session} s JOIN {course} c ON c.id = s.course_id"
    " WHERE s.id = {row}.session_id"
)

# (trigger suffix, table key, watched columns, how the patient is found from a row: a column of
# the row, or a query from the row's own key). ``{row}`` is NEW or OLD.
WATCHED: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "administration",
        "administration",
        ("patient_id", "instrument", "total", "administered_at"),
        "SELECT {row}.patient_id",
    ),
    (
        "session",
        "session",
        ("course_id", "status", "start"),
        "SELECT patient_id FROM {course} WHERE id = {row}.course_id",
    ),
    (
        "course",
        "course",
        ("patient_id", "protocol_id", "started_by_id"),
        "SELECT {row}.patient_id",
    ),
    (
        "evaluation",
        "evaluation",
        ("patient_id", "input_json", "created_at"),
        "SELECT {row}.patient_id",
    ),
    (
        "protocol",
        "protocol",
        ("code", "route", "name", "mg_per_kg"),
        "SELECT patient_id FROM {course} WHERE protocol_id = {row}.id",
    ),
    (
        "vitals",
        "vitals",
        (
            "session_id",
            "at",
            "phase",
            "systolic_mmhg",
            "diastolic_mmhg",
            "source",
            "confirmed_at",
            "artefact",
        ),
        SESSION_PATIENT,
    ),
    ("chartentry", "chartentry", ("session_id", "kind", "at", "data_json"), SESSION_PATIENT),
    (
        "dosecheck",
        "dosecheck",
        ("session_id", "amount", "infusion_minutes", "calculated_at"),
        SESSION_PATIENT,
    ),
)


def trigger_names() -> list[str]:
    """Every trigger this module installs (PostgreSQL: one per table; SQLite: one per event)."""
    return [f"{PREFIX}{name}{suffix}" for name, *_ in WATCHED for suffix in ("_i", "_u", "_d")]


def _postgresql(tables: dict[str, str]) -> list[str]:
    statements = []
    for name, table, columns, patient in WATCHED:
        new = patient.format(row="NEW", **tables)
        old = patient.format(row="OLD", **tables)
        function = f"{PREFIX}{name}_fn"
        # Protocols have no insert or delete that matters: a new one has no courses, and a
        # protocol in use cannot be deleted (PROTECT).
        statements.append(f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO {tables["dirty"]} (patient_id) {old} ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {tables["dirty"]} (patient_id) {new} ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$""")
        # Inserts: once per statement, over its rows (a transition table), so that a bulk
        # insert (the monitor feed's batch of vitals, issue 17) marks its patients in one
        # statement instead of one trigger call per row.
        inserted = patient.format(row="n", **tables)
        # Only our own table, column and function names are put into the text.
        statements.append(f"""
CREATE OR REPLACE FUNCTION {PREFIX}{name}_ins_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {tables["dirty"]} (patient_id)
    SELECT DISTINCT p.patient_id FROM new_rows n CROSS JOIN LATERAL ({inserted}) p (patient_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$""")  # noqa: S608
        statements.append(
            f"CREATE OR REPLACE TRIGGER {PREFIX}{name}_i AFTER INSERT ON {tables[table]} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {PREFIX}{name}_ins_fn()"
        )
        cols = ", ".join(columns)
        for suffix, event in (("_u", f"UPDATE OF {cols}"), ("_d", "DELETE")):
            statements.append(
                f"CREATE OR REPLACE TRIGGER {PREFIX}{name}{suffix} AFTER {event} "
                f"ON {tables[table]} FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
    return statements


def _sqlite(tables: dict[str, str]) -> list[str]:
    statements = []
    for name, table, columns, patient in WATCHED:
        new = patient.format(row="NEW", **tables)
        old = patient.format(row="OLD", **tables)
        insert = f"INSERT OR IGNORE INTO {tables['dirty']} (patient_id) "
        cols = ", ".join(columns)
        for suffix, event, body in (
            ("_i", "INSERT", f"{insert}{new};"),
            ("_u", f"UPDATE OF {cols}", f"{insert}{old}; {insert}{new};"),
            ("_d", "DELETE", f"{insert}{old};"),
        ):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}{name}{suffix} AFTER {event} "
                f"ON {tables[table]} FOR EACH ROW BEGIN {body} END"
            )
    return statements


def install_triggers(connection: Any) -> None:
    """Create (or replace) every trigger; idempotent."""
    tables = _tables()
    statements = _postgresql(tables) if connection.vendor == "postgresql" else _sqlite(tables)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_triggers(connection: Any) -> None:
    """Remove them (a migration back past the dirty table's: they would fail every write)."""
    tables = _tables()
    with connection.cursor() as cursor:
        for name, table, *_ in WATCHED:
            for suffix in ("_i", "_u", "_d"):
                on = f" ON {tables[table]}" if connection.vendor == "postgresql" else ""
                cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{name}{suffix}{on}")
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}{name}_fn()")
                cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}{name}_ins_fn()")


def _triggers_counted(vendor: str) -> tuple[str, list[Any]]:
    """A query counting the installed triggers of ``trigger_names`` (one catalogue read)."""
    names = trigger_names()
    if vendor == "postgresql":
        return (
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
            [names],
        )
    marks = ", ".join("%s" for _ in names)
    return (
        f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",  # noqa: S608  placeholders only
        list(names),
    )


def triggers_installed(connection: Any) -> bool:
    """Whether every trigger is there (one catalogue query)."""
    sql, params = _triggers_counted(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row is not None and int(row[0]) == len(trigger_names())


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Installed after every migrate (a migration may have rebuilt a watched table)."""
    from django.db import connections

    connection = connections[using]
    if DirtyPatient._meta.db_table in connection.introspection.table_names():
        install_triggers(connection)


def kept_rows_current(patient_id: UUID, definitions_label: str) -> bool:
    """Whether this patient's kept outcome rows are what a recompute would write now, in one
    statement: every trigger is installed, the last full rebuild ran under these definitions,
    and the patient is not marked dirty. ``outcomes_current`` trusts the rows on the same
    terms; a page that reads one patient's rows checks them without draining the clinic's."""
    triggers, params = _triggers_counted(default_connection.vendor)
    sql = (
        f"SELECT ({triggers}) = %s"  # noqa: S608  table names from models, placeholders only
        f" AND (SELECT definitions_label FROM {OutcomeRefresh._meta.db_table} WHERE scope = %s"
        " AND finished_at IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT 1) = %s"
        f" AND NOT EXISTS (SELECT 1 FROM {DirtyPatient._meta.db_table} WHERE patient_id = %s)"
    )
    params += [
        len(trigger_names()),
        RefreshScope.FULL.value,
        definitions_label,
        UUIDField().get_db_prep_value(patient_id, default_connection),
    ]
    with default_connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row is not None and bool(row[0])
