"""`ketaclinic backup` and `ketaclinic restore`: the whole database to one file and back.

PostgreSQL: pg_dump's custom format (compressed, restorable table by table) and pg_restore,
with the connection's password handed over in the environment, never on a command line.
SQLite: the online backup API (a consistent copy while the app serves), and the same API
back. A restore refuses a database that already holds tables unless forced, and then runs
`audit verify` and `ledger verify` on what it restored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection

SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"


class BackupError(Exception):
    pass


def _settings() -> dict[str, Any]:
    return dict(connection.settings_dict)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _pg_env() -> dict[str, str]:
    db = _settings()
    env = dict(os.environ)
    for key, name in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(argv: list[str]) -> None:
    # The argv is our own tool with paths we were given; no shell.
    done = subprocess.run(  # noqa: S603
        argv, env=_pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-1500:]}")


def database_has_tables() -> bool:
    with connection.cursor() as cursor:
        return bool(connection.introspection.table_names(cursor))


def backup(target: Path) -> None:
    """Write the whole database to `target` (replaced only once the copy is complete)."""
    partial = target.with_name(target.name + ".partial")
    try:
        if is_postgresql():
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"])
        else:
            connection.ensure_connection()
            source = connection.connection
            with sqlite3.connect(partial) as copy:
                source.backup(copy)
            copy.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def backup_kind(source: Path) -> str:
    """ "postgresql" or "sqlite", from the file's first bytes."""
    with source.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(PGDUMP_HEADER):
        return "postgresql"
    if head == SQLITE_HEADER:
        return "sqlite"
    raise BackupError(f"{source} is not a KetaClinic backup (neither pg_dump nor SQLite)")


def restore(source: Path, *, force: bool) -> None:
    """Replace the database's content with the backup in `source`."""
    kind = backup_kind(source)
    mine = "postgresql" if is_postgresql() else "sqlite"
    if kind != mine:
        raise BackupError(f"{source} is a {kind} backup; this clinic's database is {mine}")
    if database_has_tables() and not force:
        raise BackupError(
            "the database is not empty: restoring would replace everything in it. "
            "Restore into a new, empty database, or add --force"
        )
    if kind == "postgresql":
        connection.close()
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_settings()['NAME']}",
                str(source),
            ]
        )
    else:
        connection.ensure_connection()
        target = connection.connection
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db:
            backup_db.backup(target)
        backup_db.close()
    connection.close()
