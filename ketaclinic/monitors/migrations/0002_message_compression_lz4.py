"""PostgreSQL: the kept raw message and its parse result compressed with LZ4 instead of
PostgreSQL's default pglz (a message row is over the 2 kB at which values are compressed; pglz
cost the monitor feed ~25 us of database CPU a message: bench/README.md). Only new values are
compressed this way; nothing is rewritten. Elsewhere, or on a server built without LZ4, nothing
changes."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations, transaction

COLUMNS = ("raw", "parse_json")


def _compression(apps: Any, schema_editor: Any, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("monitors", "MonitorMessage")._meta.db_table
    alter = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} {alter}")  # our own names only
    except DatabaseError:
        pass  # a server without LZ4 support: the default compression stays


def forwards(apps: Any, schema_editor: Any) -> None:
    _compression(apps, schema_editor, "lz4")


def backwards(apps: Any, schema_editor: Any) -> None:
    _compression(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("monitors", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
