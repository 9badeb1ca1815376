"""The FHIR transaction import on PostgreSQL: `python -m bench.fhir_import [--rounds N]`.

Imports the Synthea patients of ../shared/fixtures/synthea (13 Patients with their 555
Conditions, one transaction Bundle, references as urn:uuid) through
``fhir.importing.transaction.transaction_import`` (checks, fhir.resources validation, patient
creation, diagnosis rows, audit, one database transaction), ``--rounds`` times; beside it, in
the same run, the floor: the same number of rows inserted straight (bulk inserts, no checks,
no audit). Prints each time with the load average. Needs KETACLINIC_BENCH_DATABASE_URL (a
scratch database: the rounds stay in it) and the fixtures; it refuses to run without them."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

SYNTHEA = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "synthea"


def _lines(name: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (SYNTHEA / f"{name}.000.ndjson").read_text("utf-8").splitlines()
        if line
    ]


def _bundle(patients: list[dict[str, Any]], conditions: list[dict[str, Any]]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{p['id']}",
            "resource": p,
            "request": {"method": "POST", "url": "Patient"},
        }
        for p in patients
    ]
    for condition in conditions:
        subject = condition["subject"]["reference"].removeprefix("Patient/")
        entries.append(
            {
                "resource": condition | {"subject": {"reference": f"urn:uuid:{subject}"}},
                "request": {"method": "POST", "url": "Condition"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="imports (and floors) to time")
    args = parser.parse_args(argv)
    url = os.environ.get("KETACLINIC_BENCH_DATABASE_URL")
    if not url or not url.startswith("postgresql://"):
        print("set KETACLINIC_BENCH_DATABASE_URL to a scratch PostgreSQL database", file=sys.stderr)
        return 2
    if not (SYNTHEA / "Patient.000.ndjson").is_file():
        print(f"the Synthea fixtures are absent ({SYNTHEA})", file=sys.stderr)
        return 2
    os.environ["KETACLINIC_DATABASE_URL"] = url
    os.environ.setdefault("KETACLINIC_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from ketaclinic.eligibility.models import Diagnosis
    from ketaclinic.fhir.importing.transaction import transaction_import
    from ketaclinic.patients.models import Patient

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-import", defaults={"role": "clinician"}
    )
    patients, conditions = _lines("Patient"), _lines("Condition")
    for round_ in range(args.rounds):
        body = _bundle(patients, conditions)
        started = time.perf_counter()
        result = transaction_import(acting_user=user, body=body)
        took = time.perf_counter() - started
        count = len(result["entry"])
        print(
            f"import {round_}: {count} entries in {took:.2f} s ({count / took:.0f}/s); "
            f"load {os.getloadavg()}"
        )
    for round_ in range(args.rounds):
        started = time.perf_counter()
        with transaction.atomic():
            made = Patient.objects.bulk_create(
                [
                    Patient(
                        mrn=f"FL{secrets.randbelow(10**9):09d}",
                        given_name="Floor",
                        family_name="Row",
                        birth_date="1970-01-01",
                        sex_at_birth="unknown",
                    )
                    for _ in patients
                ]
            )
            Diagnosis.objects.bulk_create(
                [
                    Diagnosis(
                        patient=made[i % len(made)],
                        source="import",
                        snomed="21897009",
                        display="floor",
                        recorded_at=timezone.now(),
                    )
                    for i in range(len(conditions))
                ]
            )
        took = time.perf_counter() - started
        print(
            f"floor {round_}: {len(patients) + len(conditions)} rows in {took:.3f} s; "
            f"load {os.getloadavg()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
