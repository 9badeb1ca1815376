"""The Bulk Data export benchmark on PostgreSQL: `python -m bench bulk [--resources N]`.

Generates a synthetic clinic by COPY (``--patients`` patients, default one per 500 resources,
and ``--resources`` stored FHIR resources: GAD-7 score Observations and their
QuestionnaireResponses as the app stores them, validated JSON text), then runs one system
``$export`` through the export job's own code (``services.bulk_export_run``, what `ketaclinic
worker` runs) and prints resources/s, the peak RSS (before the export, during it by a sampler
thread, after), the files' size and the load average. Beside it, in the same run, the floor:
one psycopg ``COPY (SELECT json_text ...) TO STDOUT`` of the same rows into a file (no
Django, no meta, no access check). A sample of the exported lines (``--validate``, default
2,000, spread over every file) is parsed and validated with fhir.resources.
Target (issue 16): >= 20,000 resources/s in constant memory.

The database is KETACLINIC_DATABASE_URL (PostgreSQL); ``--reuse`` keeps an earlier run's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.outcomes import _copy, _load

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
BASE = "https://clinic.example/fhir"


def _rss_mb() -> float:
    """The current resident set size (not the peak), from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _observation(rid: str, pid: str, qid: str, at: datetime, total: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": "http://loinc.org", "code": "70274-6", "display": "GAD-7 total score"}
            ],
            "text": "GAD-7 total score",
        },
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": at.isoformat(),
        "issued": at.isoformat(),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{qid}"}],
        "valueInteger": total,
    }


def _response(qid: str, pid: str, at: datetime, answers: list[int]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": qid,
        "questionnaire": f"{BASE}/Questionnaire/gad7",
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "authored": at.isoformat(),
        "item": [
            {"linkId": f"gad7-{n + 1}", "answer": [{"valueInteger": value}]}
            for n, value in enumerate(answers)
        ],
    }


def _generate(resources: int, patients: int, seed: int) -> dict[str, int]:
    from django.db import connection

    from ketaclinic.fhir.models import StoredResource
    from ketaclinic.patients.models import Patient

    rng = random.Random(seed)  # noqa: S311  synthetic data
    ids = [uuid.uuid4() for _ in range(patients)]
    now = datetime.now(UTC)

    def patient_rows() -> Iterator[dict[str, Any]]:
        for n, pid in enumerate(ids):
            yield {
                "id": pid,
                "mrn": f"X{n:09d}",
                "given_name": "Bulk",
                "family_name": f"P{n}",
                "birth_date": datetime(1980, 1, 1, tzinfo=UTC).date(),
                "sex_at_birth": "female",
                "created_at": now,
                "updated_at": now,
            }

    def stored_rows() -> Iterator[dict[str, Any]]:
        for n in range(resources // 2):
            pid = ids[n % patients]
            at = START + timedelta(hours=n)
            qid, oid = str(uuid.uuid4()), str(uuid.uuid4())
            answers = [rng.randint(0, 3) for _ in range(7)]
            common = {"patient_id": pid, "effective": at, "created_at": now}
            yield common | {
                "resource_type": "QuestionnaireResponse",
                "resource_id": qid,
                "json_text": json.dumps(
                    _response(qid, str(pid), at, answers), separators=(",", ":")
                ),
            }
            yield common | {
                "resource_type": "Observation",
                "resource_id": oid,
                "code_system": "http://loinc.org",
                "code": "70274-6",
                "json_text": json.dumps(
                    _observation(oid, str(pid), qid, at, sum(answers)), separators=(",", ":")
                ),
            }

    counts = {}
    with connection.cursor() as django_cursor:
        raw = django_cursor.cursor
        counts["patients"] = _copy(raw, Patient, patient_rows())
        counts["stored resources"] = _copy(raw, StoredResource, stored_rows())
        django_cursor.execute("ANALYZE")
    return counts


def _floor(folder: Path) -> tuple[float, int]:
    """The same rows' JSON text straight out of PostgreSQL into a file (COPY TO STDOUT)."""
    from django.db import connection

    t0 = time.perf_counter()
    rows = 0
    with connection.cursor() as cursor, (folder / "floor.ndjson").open("wb") as out:
        raw = cursor.cursor
        with raw.copy("COPY (SELECT json_text FROM fhir_storedresource) TO STDOUT") as copy:
            for block in copy:
                out.write(block)
    with (folder / "floor.ndjson").open("rb") as written:
        rows = sum(1 for _ in written)
    return time.perf_counter() - t0, rows


def _validate_sample(folder: Path, files: list[Any], sample: int) -> int:
    from fhir.resources.R4B import get_fhir_model_class

    rng = random.Random(7)  # noqa: S311  which lines to check
    checked = 0
    per_file = max(1, sample // max(1, len(files)))
    for row in files:
        lines = (folder / row.name).read_text(encoding="utf-8").splitlines()
        for line in rng.sample(lines, min(per_file, len(lines))):
            data = json.loads(line)
            get_fhir_model_class(data["resourceType"]).model_validate(data)
            checked += 1
    return checked


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench bulk", description=__doc__)
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=0, help="default: resources / 500")
    parser.add_argument("--validate", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's rows")
    args = parser.parse_args(argv)
    url = os.environ.get("KETACLINIC_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set KETACLINIC_DATABASE_URL to a PostgreSQL database of your own")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    os.environ.setdefault("KETACLINIC_SECRET_KEY", "bench-only-not-secret")
    folder = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    os.environ["KETACLINIC_BULK_DIR"] = str(folder)
    import django

    django.setup()
    from django.core.management import call_command

    from ketaclinic.accounts.models import User
    from ketaclinic.fhir.bulk import services
    from ketaclinic.fhir.bulk.models import BulkExport
    from ketaclinic.fhir.bulk.params import KickOff
    from ketaclinic.fhir.bulk.writer import attempt_dir
    from ketaclinic.fhir.models import StoredResource
    from ketaclinic.testing import make_clinic

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="dana").exists():
        make_clinic()
    admin = User.objects.get(username="dana")
    print(f"start: {_load()}")
    stored = StoredResource.objects.count()
    if args.reuse and stored >= args.resources:
        print(f"reusing {stored} stored resources; {_load()}")
    else:
        t0 = time.perf_counter()
        patients = args.patients or max(1, args.resources // 500)
        counts = _generate(args.resources, patients, args.seed)
        print(f"generated by COPY in {time.perf_counter() - t0:.1f} s: {counts}; {_load()}")
    floor_s, floor_rows = _floor(folder)
    print(
        f"floor (COPY json_text TO STDOUT into a file): {floor_rows} rows in {floor_s:.1f} s, "
        f"{floor_rows / floor_s:,.0f} rows/s; {_load()}"
    )
    export = services.bulk_export_start(
        acting_user=admin,
        kind="system",
        cohort=None,
        kick_off=KickOff(types=["Patient", "Observation", "QuestionnaireResponse"]),
        request_url="bench",
    )
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _rss_mb())

    rss_before = _rss_mb()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0, cpu0 = time.perf_counter(), time.process_time()
    services.bulk_export_run(export_id=str(export.pk), attempt=export.attempt)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    done.set()
    sampler.join()
    export = BulkExport.objects.get(pk=export.pk)
    files = list(export.files.all())
    written = sum(f.count for f in files)
    size = sum(f.size for f in files) / 1024 / 1024
    print(
        f"export: status {export.status}, {written} resources in {len(files)} files "
        f"({size:,.0f} MB) in {seconds:.1f} s: {written / seconds:,.0f} resources/s "
        f"(floor {floor_rows / floor_s:,.0f} rows/s; "
        f"ratio {(written / seconds) / (floor_rows / floor_s):.2f}); "
        f"the export process's own CPU {cpu:.1f} s ({written / cpu:,.0f} resources per CPU-second; "
        "the rest is waiting for PostgreSQL and for the cores other processes hold); "
        f"RSS {rss_before:.0f} MB before, peak {peak[0]:.0f} MB during "
        f"(+{peak[0] - rss_before:.0f} MB), max RSS of the process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; {_load()}"
    )
    checked = _validate_sample(attempt_dir(export), files, args.validate)
    print(f"validated with fhir.resources: {checked} sampled lines, all valid; {_load()}")
    services.bulk_export_sweep(now=datetime.now(UTC) + timedelta(days=365))
    for leftover in folder.glob("*"):
        if leftover.is_file():
            leftover.unlink()
