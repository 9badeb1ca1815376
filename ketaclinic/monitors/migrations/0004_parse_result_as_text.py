"""The kept parse result as JSON text, not jsonb (issue 17): nothing queries inside it, and
PostgreSQL built 1.6 kB of jsonb for every message of the feed. Existing rows keep their
content (jsonb's text: the same JSON, its keys in jsonb's order), so every stored format still
reads back (`MonitorMessage.parse_result`, `feed.parse.parsed_from_json`). PostgreSQL drops a
column's compression when its type changes: LZ4 is set again (as 0002)."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations, models, transaction


def _lz4(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("monitors", "MonitorMessage")._meta.db_table
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # Our own names only.
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN parse_json SET COMPRESSION lz4")
    except DatabaseError:
        pass  # a server without LZ4 support: the default compression stays


class Migration(migrations.Migration):
    dependencies = [("monitors", "0003_indexes_the_writes_need")]

    operations = [
        migrations.AlterField(
            model_name="monitormessage",
            name="parse_json",
            field=models.TextField(default="{}"),
        ),
        migrations.RunPython(_lz4, migrations.RunPython.noop),
    ]
