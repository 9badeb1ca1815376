"""The worker-restart drill: a real `ketaclinic worker` process is killed (SIGKILL) in the
middle of an export. The export is never half-published: its status stays in progress, and
once its job has been silent for the stale time it is queued again as a new attempt, which a
new worker runs to a complete manifest with every resource once; after the last attempt it
fails with a sentence the status URL reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from ketaclinic.fhir.bulk import services
from ketaclinic.fhir.bulk.models import BulkExport, ExportStatus
from ketaclinic.fhir.bulk.params import KickOff
from ketaclinic.fhir.bulk.writer import attempt_dir
from ketaclinic.fhir.models import StoredResource
from ketaclinic.testing import Clinic, make_clinic

ROOT = Path(__file__).resolve().parents[4]
ROWS = 30_000


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgresql://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}"
        f"/{settings['NAME']}"
    )


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ketaclinic", "worker", "--interval", "0.2", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until(check: Any, limit: float = 120) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, "timed out"
        time.sleep(0.05)


def _seed(clinic: Clinic) -> None:
    now = timezone.now()
    rows = []
    for n in range(ROWS):
        rid = str(uuid.uuid4())
        text = json.dumps(
            {
                "resourceType": "Observation",
                "id": rid,
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "70274-6"}]},
                "subject": {"reference": f"Patient/{clinic.pat.pk}"},
                "valueInteger": n % 22,
            },
            separators=(",", ":"),
        )
        rows.append(
            StoredResource(
                resource_type="Observation",
                resource_id=rid,
                patient=clinic.pat,
                code_system="http://loinc.org",
                code="70274-6",
                effective=now,
                json_text=text,
                created_at=now - timedelta(minutes=1),
            )
        )
    StoredResource.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.drill
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_export_is_replaced_and_the_export_completes(
    settings: Any, tmp_path: Path
) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    settings.FHIR_BULK_STALE_SECONDS = 2
    settings.FHIR_BULK_MAX_ATTEMPTS = 2
    clinic = make_clinic()
    _seed(clinic)
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
        "KETACLINIC_DATABASE_URL": _database_url(),
        "KETACLINIC_SECRET_KEY": settings.SECRET_KEY,
        "KETACLINIC_BULK_DIR": str(settings.FHIR_BULK_DIR),
        "KETACLINIC_BULK_CHUNK": "25",  # many small steps: killed in the middle of one
        "KETACLINIC_BULK_STALE_SECONDS": "2",
    }
    export = services.bulk_export_start(
        acting_user=clinic.users["dana"],
        kind="system",
        cohort=None,
        kick_off=KickOff(types=["Patient", "Observation"]),
        request_url="drill",
    )

    def progressed() -> bool:
        current = BulkExport.objects.get(pk=export.pk)
        return current.status == ExportStatus.RUNNING and current.progress > 0

    first = _worker(env)
    try:
        _until(progressed)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    killed = BulkExport.objects.get(pk=export.pk)
    assert killed.status == ExportStatus.RUNNING, "the drill killed the worker too late"
    assert 0 < killed.progress < ROWS
    assert not killed.files.exists()  # nothing published: no manifest from a half export
    poll = services.bulk_export_poll(user=clinic.users["dana"], export_id=export.pk)
    assert poll.export.status == ExportStatus.RUNNING  # not yet stale
    time.sleep(2.5)
    poll = services.bulk_export_poll(user=clinic.users["dana"], export_id=export.pk)
    assert poll.export.status == ExportStatus.QUEUED and poll.export.attempt == 2
    assert not attempt_dir(killed).exists()  # the first attempt's partial files are gone
    second = _worker(env)
    try:
        _until(lambda: BulkExport.objects.get(pk=export.pk).status == ExportStatus.COMPLETED)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    done = BulkExport.objects.get(pk=export.pk)
    files = list(done.files.all())
    assert sum(f.count for f in files) == ROWS + 2  # every Observation and both patients
    seen: set[str] = set()
    for row in files:
        for line in (attempt_dir(done) / row.name).read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            get_fhir_model_class(data["resourceType"]).model_validate(data)
            seen.add(f"{data['resourceType']}/{data['id']}")
    assert len(seen) == ROWS + 2  # none twice, none missing


@pytest.mark.django_db
def test_an_export_that_keeps_losing_its_worker_fails_with_a_sentence(
    clinic: Clinic, settings: Any, tmp_path: Path
) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    settings.FHIR_BULK_MAX_ATTEMPTS = 2
    export = services.bulk_export_start(
        acting_user=clinic.users["dana"],
        kind="system",
        cohort=None,
        kick_off=KickOff(types=["Patient"]),
        request_url="drill",
    )
    for attempt in (1, 2):
        long_ago = timezone.now() - timedelta(hours=1)
        BulkExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, heartbeat_at=long_ago, progress=5
        )
        services.bulk_export_sweep()
        current = BulkExport.objects.get(pk=export.pk)
        if attempt == 1:
            assert (current.status, current.attempt) == (ExportStatus.QUEUED, 2)
    assert current.status == ExportStatus.FAILED
    assert "stopped 2 times" in current.error
    poll = services.bulk_export_poll(user=clinic.users["dana"], export_id=export.pk)
    assert poll.export.status == ExportStatus.FAILED
