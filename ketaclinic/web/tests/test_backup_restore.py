"""`ketaclinic backup` / `ketaclinic restore`: a round trip on SQLite and on PostgreSQL (a
cluster of the test's own), the restore verifying the audit chain and the ledger, and a
database that is not empty refused without --force."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ketaclinic.testing.pgcluster import postgresql_bin, private_cluster
from ketaclinic.testing.served import ROOT, SCRIPT, clinic_env, prepare, run_command

COUNTS = (
    "import django; django.setup(); "
    "from ketaclinic.audit.models import AuditEvent; "
    "from ketaclinic.infusions.models import Session; "
    "from ketaclinic.accounts.models import User; "
    "print(AuditEvent.objects.count(), Session.objects.count(), User.objects.count())"
)


def _counts(env: dict[str, str]) -> list[int]:
    done = subprocess.run(  # noqa: S603  our own interpreter, fixed code
        [str(Path(SCRIPT).with_name("python")), "-c", COUNTS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [int(n) for n in done.stdout.split()]


def _attempt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  our own console script
        [str(SCRIPT), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _round_trip(tmp_path: Path, source_url: str, target_url: str, empty_url: str) -> None:
    source = clinic_env(source_url, tmp_path / "a")
    prepare(source, 3)
    before = _counts(source)
    assert before[0] > 0 and before[1] == 3
    backup = tmp_path / "clinic.backup"
    out = run_command(source, "backup", str(backup))
    assert "backup written" in out

    target = clinic_env(target_url, tmp_path / "b")
    out = run_command(target, "restore", str(backup))
    assert "audit chain intact" in out
    assert "ledger" in out.lower()
    assert _counts(target) == before

    # a database that is not empty is refused, and left as it was
    refused = _attempt(target, "restore", str(backup))
    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    assert _counts(target) == before
    forced = _attempt(target, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert _counts(target) == before

    # a file that is no backup is refused before anything is touched
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    wrong = _attempt(clinic_env(empty_url, tmp_path / "c"), "restore", str(junk))
    assert wrong.returncode != 0
    assert "not a KetaClinic backup" in wrong.stderr


def test_backup_and_restore_round_trip_on_sqlite(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    _round_trip(
        tmp_path,
        f"sqlite:///{tmp_path / 'a' / 'clinic.sqlite3'}",
        f"sqlite:///{tmp_path / 'b' / 'clinic.sqlite3'}",
        f"sqlite:///{tmp_path / 'c' / 'clinic.sqlite3'}",
    )


@pytest.mark.drill
@pytest.mark.skipif(postgresql_bin() is None, reason="PostgreSQL is not installed")
def test_backup_and_restore_round_trip_on_postgresql(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    with private_cluster() as cluster:
        made: Callable[[str], str] = cluster.createdb
        _round_trip(tmp_path, made("source"), made("target"), made("empty"))
