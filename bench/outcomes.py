"""The outcomes benchmark on PostgreSQL: `python -m bench outcomes [--patients N]`.

Generates a synthetic clinic by COPY (patients, one course each with 6 infusions, a diagnosis,
and GAD-7 and PHQ-9 scores: 20 responses a patient by default), recomputes the outcome rows
(the app's job: set-based on PostgreSQL, every course, measure and timepoint), then times the
clinic page's figures (response and remission at 14-31 days after induction, every disorder,
and for one disorder) beside ONE hand-written SQL aggregate that computes the same counts from
the raw administrations and sessions. Prints each time, the ratios (page alone, and recompute
plus page, to the SQL), whether the counts match exactly, peak memory and the load average.
``--reuse`` keeps a clinic an earlier run generated (same --patients) instead of adding one.

The database is KETACLINIC_DATABASE_URL (PostgreSQL; it is emptied of outcomes and filled).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

INFUSION_DAYS = (0, 2, 4, 7, 9, 11)
DIAGNOSES = ("F41.1", "F41.1", "F40.10", "F41.0", "F42.2")
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

SQL_COUNTS = """
WITH infusions AS (
    SELECT s.course_id, c.patient_id, MIN(s.start) AS first_at, MAX(s.start) AS last_at
    FROM infusions_session s JOIN courses_course c ON c.id = s.course_id
    WHERE s.status IN ('infusing', 'recovery', 'discharged', 'signed')
    GROUP BY s.course_id, c.patient_id
), diagnosis AS (
    SELECT DISTINCT ON (patient_id) patient_id, input_json -> 'diagnoses' ->> 0 AS code
    FROM intake_evaluation ORDER BY patient_id, created_at DESC, id DESC
), judged AS (
    SELECT i.course_id, d.code,
        (SELECT a.total FROM scales_administration a
          WHERE a.patient_id = i.patient_id AND a.instrument = %(measure)s
            AND a.total IS NOT NULL AND a.administered_at < i.first_at
            AND a.administered_at >= i.first_at - interval '30 days'
          ORDER BY a.administered_at DESC LIMIT 1) AS baseline,
        (SELECT a.total FROM scales_administration a
          WHERE a.patient_id = i.patient_id AND a.instrument = %(measure)s
            AND a.total IS NOT NULL AND a.administered_at >= i.last_at + interval '14 days'
            AND a.administered_at < i.last_at + interval '32 days'
          ORDER BY a.administered_at DESC LIMIT 1) AS score
    FROM infusions i LEFT JOIN diagnosis d ON d.patient_id = i.patient_id
)
SELECT COUNT(*) AS started,
       COUNT(*) FILTER (WHERE baseline IS NOT NULL AND score IS NOT NULL) AS with_data,
       COUNT(*) FILTER (WHERE baseline > 0 AND score IS NOT NULL
                          AND (baseline - score) * 100 >= 50 * baseline) AS responded,
       COUNT(*) FILTER (WHERE baseline IS NOT NULL AND score IS NOT NULL AND score <= 4)
           AS remitted
FROM judged
WHERE %(prefix)s = '' OR replace(upper(coalesce(code, '')), '.', '') LIKE %(prefix)s || '%%'
"""


def _copy(cursor: Any, model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY dicts into the model's table; every concrete column, defaults where not given."""
    from psycopg.types.json import Jsonb

    fields = [
        f
        for f in model._meta.concrete_fields
        if f.get_internal_type() not in ("AutoField", "BigAutoField")  # the database numbers
    ]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    count = 0
    with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = []
            for f in fields:
                value = row[f.attname] if f.attname in row else f.get_default()
                if isinstance(value, dict | list):
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)
            count += 1
    return count


def _generate(patients: int, per_patient: int, seed: int) -> dict[str, int]:
    from django.db import connection

    from ketaclinic.accounts.models import User
    from ketaclinic.courses.models import Chair, Course, Protocol
    from ketaclinic.eligibility.models import Evaluation, RuleSetVersion
    from ketaclinic.infusions.models import Session
    from ketaclinic.patients.models import Patient
    from ketaclinic.scales.models import Administration

    rng = random.Random(seed)  # noqa: S311  synthetic data
    clinician = User.objects.filter(role="clinician").order_by("pk").first()
    assert clinician is not None
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None
    chair, _ = Chair.objects.get_or_create(name="Bench chair")
    ruleset = RuleSetVersion.objects.order_by("pk").first() or RuleSetVersion.objects.create(
        version="bench", rules_json={}
    )
    ids = [(uuid.uuid4(), uuid.uuid4()) for _ in range(patients)]
    shift = [timedelta(days=rng.randint(0, 600)) for _ in range(patients)]
    now = datetime.now(UTC)

    def patient_rows() -> Iterator[dict[str, Any]]:
        for n, (pid, _) in enumerate(ids):
            yield {
                "id": pid,
                "mrn": f"B{n:09d}",
                "given_name": "Bench",
                "family_name": f"P{n}",
                "birth_date": datetime(1980, 1, 1, tzinfo=UTC).date(),
                "sex_at_birth": "unknown",
                "created_at": now,
                "updated_at": now,
            }

    def course_rows() -> Iterator[dict[str, Any]]:
        for pid, cid in ids:
            yield {
                "id": cid,
                "patient_id": pid,
                "protocol_id": protocol.pk,
                "started_by_id": clinician.pk,
                "started_at": now,
            }

    def session_rows() -> Iterator[dict[str, Any]]:
        for (_, cid), s in zip(ids, shift, strict=True):
            for day in INFUSION_DAYS:
                at = START + s + timedelta(days=day)
                yield {
                    "id": uuid.uuid4(),
                    "course_id": cid,
                    "chair_id": chair.pk,
                    "phase": "induction",
                    "start": at,
                    "chair_until": at + timedelta(hours=3),
                    "status": "signed",
                    "created_by_id": clinician.pk,
                    "created_at": now,
                }

    def evaluation_rows() -> Iterator[dict[str, Any]]:
        for n, (pid, _) in enumerate(ids):
            yield {
                "patient_id": pid,
                "input_json": {"diagnoses": [DIAGNOSES[n % 5]]},
                "proposal_json": {},
                "outcome": "eligible",
                "ruleset_id": ruleset.pk,
                "created_by_id": clinician.pk,
                "created_at": now,
            }

    # the days of each measure's scores: baseline, before infusions 2-6, after 6, follow-ups
    days = [-3, 1, 3, 6, 8, 10, 12, 20, 27, 40][: per_patient // 2]

    def administration_rows() -> Iterator[dict[str, Any]]:
        for (pid, _), s in zip(ids, shift, strict=True):
            for measure, top in (("gad7", 21), ("phq9", 27)):
                baseline = rng.randint(top // 3, top)
                fall = rng.uniform(-0.1, 0.12)
                missing = rng.random() < 0.15
                for k, day in enumerate(days):
                    if missing and k in (0, 7):
                        continue
                    value = (
                        baseline
                        if k == 0
                        else round(baseline * (1 - fall) ** k + rng.gauss(0, 1.5))
                    )
                    yield {
                        "id": uuid.uuid4(),
                        "patient_id": pid,
                        "instrument": measure,
                        "answers": {},
                        "total": max(0, min(top, value)),
                        "administered_at": START + s + timedelta(days=day, hours=1),
                        "entered_by_id": clinician.pk,
                        "mode": "staff_entry",
                        "created_at": now,
                    }

    counts = {}
    with connection.cursor() as django_cursor:
        raw = django_cursor.cursor
        counts["patients"] = _copy(raw, Patient, patient_rows())
        counts["courses"] = _copy(raw, Course, course_rows())
        counts["sessions"] = _copy(raw, Session, session_rows())
        counts["evaluations"] = _copy(raw, Evaluation, evaluation_rows())
        counts["responses"] = _copy(raw, Administration, administration_rows())
        django_cursor.execute("ANALYZE")
    return counts


def _sql(prefix: str) -> tuple[float, tuple[int, int, int, int]]:
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SQL_COUNTS, {"measure": "gad7", "prefix": prefix})
        row = cursor.fetchone()
    return time.perf_counter() - t0, (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def _app(disorder: str) -> tuple[float, tuple[int, int, int, int]]:
    from ketaclinic.outcomes.rules.definitions import shipped_definitions
    from ketaclinic.outcomes.selectors import Filters, cells_for

    defs = shipped_definitions()
    t0 = time.perf_counter()
    cells = cells_for(
        Filters(measure="gad7", timepoint="post_induction", disorder=disorder),
        defs,
        defs.measure("gad7"),
    )
    elapsed = time.perf_counter() - t0
    total = cells[0]
    return elapsed, (
        total.started,
        total.with_data,
        total.counts.get("responded", 0),
        total.counts.get("remitted", 0),
    )


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench outcomes", description=__doc__)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--responses-per-patient", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--recompute-repeat", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's clinic")
    args = parser.parse_args(argv)
    url = os.environ.get("KETACLINIC_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set KETACLINIC_DATABASE_URL to a PostgreSQL database of your own")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    os.environ.setdefault("KETACLINIC_SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    from django.core.management import call_command

    from ketaclinic.accounts.models import User
    from ketaclinic.outcomes.services import outcomes_refresh
    from ketaclinic.testing import make_clinic

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="ada").exists():
        make_clinic()
    from ketaclinic.patients.models import Patient

    print(f"start: {_load()}")
    existing = Patient.objects.filter(given_name="Bench").count()
    if args.reuse and existing == args.patients:
        print(f"reusing the {existing} generated patients; {_load()}")
    else:
        t0 = time.perf_counter()
        counts = _generate(args.patients, args.responses_per_patient, args.seed)
        print(f"generated by COPY in {time.perf_counter() - t0:.1f} s: {counts}; {_load()}")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refresh_times = []
    for _ in range(args.recompute_repeat):
        t0 = time.perf_counter()
        run = outcomes_refresh(acting_user=None)
        refresh_times.append(time.perf_counter() - t0)
        print(f"recompute: {refresh_times[-1]:.1f} s; {_load()}")
    refresh_s = min(refresh_times)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"recompute (best of {len(refresh_times)}): {refresh_s:.1f} s for {run.courses} courses, "
        f"{run.rows} course outcome rows; peak RSS {rss_before / 1024:.0f} MB before, "
        f"{rss_after / 1024:.0f} MB after; {_load()}"
    )
    for label, disorder, prefix in (("all patients", "", ""), ("social anxiety", "social", "F401")):
        app_times, sql_times = [], []
        app_counts = sql_counts = (0, 0, 0, 0)
        for _ in range(args.repeat):
            seconds, sql_counts = _sql(prefix)
            sql_times.append(seconds)
            seconds, app_counts = _app(disorder)
            app_times.append(seconds)
        app_s, sql_s = min(app_times), min(sql_times)
        match = "match exactly" if app_counts == sql_counts else "DIFFER"
        print(
            f"{label}: hand-written SQL {sql_s:.2f} s; page figures {app_s:.3f} s "
            f"(ratio {app_s / sql_s:.2f}x); recompute + page {refresh_s + app_s:.1f} s "
            f"(ratio {(refresh_s + app_s) / sql_s:.2f}x); counts (started, with data, "
            f"responded, remitted) app {app_counts} SQL {sql_counts}: {match}; {_load()}"
        )
