"""The outcomes benchmark on PostgreSQL: `python -m bench outcomes [--patients N]`.

Generates a synthetic clinic by COPY (patients, one course each with 6 infusions, a diagnosis,
and GAD-7 and PHQ-9 scores: 20 responses a patient by default), then:
1. the full rebuild of the outcome rows (every course, measure and timepoint; set-based on
   PostgreSQL): what the first run, a new definitions version or the nightly job costs;
2. what the clinic page does (``outcomes_current``, which drains the patients marked dirty since,
   then the figures), all patients and one disorder, beside ONE hand-written SQL aggregate
   computing the same response and remission counts from the raw administrations and sessions,
   in the same run: the counts must match exactly (asserted); the response and remission cells
   and, separately, every figure of the page (trajectories, Kaplan-Meier, safety);
3. the per-write upkeep: ``--writes`` GAD-7 scores recorded one transaction each, without and
   with the change triggers, and the drain of the patients they marked;
4. step 2 again after ``--writes`` new scores, so the page's first read drains them.
Prints each time with the load average, the ratios to the SQL, and peak memory.
``--reuse`` keeps a clinic an earlier run generated (same --patients) instead of adding one.

The database is KETACLINIC_DATABASE_URL (PostgreSQL; it is emptied of outcomes and filled).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
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
        # triggers off for the bulk load (the change marks and the foreign-key checks): the
        # bench runs a full rebuild next, as a clinic does after an import
        django_cursor.execute("SET session_replication_role = replica")
        counts["patients"] = _copy(raw, Patient, patient_rows())
        counts["courses"] = _copy(raw, Course, course_rows())
        counts["sessions"] = _copy(raw, Session, session_rows())
        counts["evaluations"] = _copy(raw, Evaluation, evaluation_rows())
        counts["responses"] = _copy(raw, Administration, administration_rows())
        django_cursor.execute("SET session_replication_role = origin")
        django_cursor.execute("ANALYZE")
    return counts


def _sql(prefix: str) -> tuple[float, tuple[int, int, int, int]]:
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SQL_COUNTS, {"measure": "gad7", "prefix": prefix})
        row = cursor.fetchone()
    return time.perf_counter() - t0, (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def _app(disorder: str, user: Any) -> tuple[float, float, tuple[int, int, int, int]]:
    """What the clinic page does: bring the outcome rows up to date (drain the patients whose
    rows changed), then read its figures. Returns (upkeep + response and remission cells,
    upkeep + every figure of the page: cells, trajectories, Kaplan-Meier, safety), counts."""
    from ketaclinic.outcomes.rules.definitions import shipped_definitions
    from ketaclinic.outcomes.selectors import Filters, cells_for, clinic_outcomes
    from ketaclinic.outcomes.services import outcomes_current

    defs = shipped_definitions()
    filters = Filters(measure="gad7", timepoint="post_induction", disorder=disorder)
    t0 = time.perf_counter()
    outcomes_current(acting_user=user, definitions=defs)
    cells = cells_for(filters, defs, defs.measure("gad7"))
    cells_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    outcomes_current(acting_user=user, definitions=defs)
    figures = clinic_outcomes(user, filters, defs)
    page_s = time.perf_counter() - t0
    assert not figures.pending
    total = cells[0]
    return (
        cells_s,
        page_s,
        (
            total.started,
            total.with_data,
            total.counts.get("responded", 0),
            total.counts.get("remitted", 0),
        ),
    )


def _record_scores(
    targets: list[tuple[Any, Any]], user: Any, seed: int, *, upkeep: bool
) -> list[Any]:
    """Record one GAD-7 score for each (patient, last infusion) 30 days after the last infusion,
    one transaction each (as the scales' entry does); ``upkeep`` False runs the same writes with
    the change triggers disabled (what a write costs without marking its patient; the foreign
    key checks stay). Returns the new rows' ids."""
    from django.db import transaction

    from ketaclinic.scales.models import Administration

    rng = random.Random(seed)  # noqa: S311  synthetic data
    ids = []
    if not upkeep:
        _administration_triggers(enable=False)
    try:
        for patient_id, last_at in targets:
            with transaction.atomic():
                row = Administration.objects.create(
                    patient_id=patient_id,
                    instrument="gad7",
                    answers={"bench": "write"},  # an earlier run's are taken back (--reuse)
                    total=rng.randint(0, 21),
                    # after the generated scores' latest in the 14-31-day window (day 29), one
                    # hour apart per round (no tie for "the latest")
                    administered_at=last_at + timedelta(days=30, hours=seed % 12),
                    entered_by=user,
                    mode="staff_entry",
                )
            ids.append(row.pk)
    finally:
        if not upkeep:
            _administration_triggers(enable=True)
    return ids


def _administration_triggers(*, enable: bool) -> None:
    from django.db import connection

    from ketaclinic.outcomes.services.upkeep import PREFIX

    with connection.cursor() as cursor:
        for suffix in ("_i", "_u", "_d"):
            cursor.execute(
                f"ALTER TABLE scales_administration {'ENABLE' if enable else 'DISABLE'} "
                f"TRIGGER {PREFIX}administration{suffix}"
            )


def _targets(count: int, seed: int) -> list[tuple[Any, Any]]:
    """``count`` generated patients (a seeded sample) with their course's last infusion."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [1 / (seed + 2)])
        cursor.execute(
            """
            SELECT c.patient_id, max(s.start) FROM courses_course c
            JOIN patients_patient p ON p.id = c.patient_id AND p.given_name = 'Bench'
            JOIN infusions_session s ON s.course_id = c.id
            GROUP BY c.patient_id ORDER BY random() LIMIT %s
            """,
            [count],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


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
    parser.add_argument(
        "--writes", type=int, default=1000, help="scores recorded to time the upkeep and drain"
    )
    parser.add_argument(
        "--new-sessions", type=int, default=100, help="sessions charted before the second page"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the page once, at the end")
    parser.add_argument(
        "--page-memory-only",
        action="store_true",
        help="only the page's peak memory, on the clinic already there (run at the end)",
    )
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
    from ketaclinic.outcomes.models import DirtyPatient
    from ketaclinic.outcomes.services import outcomes_current, outcomes_refresh
    from ketaclinic.scales.models import Administration
    from ketaclinic.testing import make_clinic

    call_command("migrate", verbosity=0)
    if args.page_memory_only:
        _page_memory(User.objects.get(username="ada"))
        return
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
        print(
            f"generated by COPY (change triggers off: the full rebuild below follows) in "
            f"{time.perf_counter() - t0:.1f} s: {counts}; {_load()}"
        )
    from bench.outcomes_safety import chart_new_sessions, chart_sessions

    t0 = time.perf_counter()
    charted = chart_sessions(args.seed)
    print(
        f"session charts by COPY (those without one): {time.perf_counter() - t0:.1f} s: "
        f"{charted}; {_load()}"
    )
    user = User.objects.get(username="ada")
    Administration.objects.filter(answers={"bench": "write"}).delete()  # an earlier run's
    _take_back_sessions()  # an earlier run's
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refresh_times = []
    for _ in range(args.recompute_repeat):
        t0 = time.perf_counter()
        run = outcomes_refresh(acting_user=None)
        refresh_times.append(time.perf_counter() - t0)
        print(f"full rebuild: {refresh_times[-1]:.1f} s; {_load()}")
    refresh_s = min(refresh_times)
    print(
        f"full rebuild (best of {len(refresh_times)}; first run, a definitions change, the "
        f"nightly job): {refresh_s:.1f} s for {run.courses} courses, {run.rows} course outcome "
        f"rows; {_load()}"
    )
    sql_all = _compare("nothing changed since the rebuild", args.repeat, user)
    _sections(user)

    targets = _targets(args.writes, args.seed)
    plain_times = []
    kept_s = 0.0
    # without, with, without again: the machine is shared and its load moves; both shown
    for step, upkeep in enumerate((False, True, False)):
        t0 = time.perf_counter()
        written = _record_scores(targets, user, args.seed + 3 * step, upkeep=upkeep)
        seconds = time.perf_counter() - t0
        if upkeep:
            kept_s = seconds
        else:
            plain_times.append(seconds)
            _administration_triggers(enable=False)  # taken back unmarked: the rows stay current
            Administration.objects.filter(pk__in=written).delete()
            _administration_triggers(enable=True)
    plain_s = sum(plain_times) / len(plain_times)
    marked = DirtyPatient.objects.count()
    extra_ms = (kept_s - plain_s) / len(targets) * 1000
    print(
        f"per-write upkeep: {len(targets)} scores, one transaction each: "
        f"{' and '.join(f'{t:.2f}' for t in plain_times)} s without the change triggers, "
        f"{kept_s:.2f} s with them ({extra_ms:+.2f} ms a score against the mean without); "
        f"{marked} patients marked; {_load()}"
    )
    t0 = time.perf_counter()
    drained = outcomes_current(acting_user=None)
    drain_s = time.perf_counter() - t0
    assert drained is not None
    print(
        f"draining them alone: {drain_s:.2f} s ({drained.courses} courses, {drained.rows} "
        f"course outcome rows rewritten); {_load()}"
    )
    _record_scores(targets, user, args.seed + 9, upkeep=True)
    new_sessions = targets[: args.new_sessions]
    t0 = time.perf_counter()
    chart_new_sessions(new_sessions, user, args.seed)
    print(
        f"{len(new_sessions)} new sessions charted (dose, 3 vitals, start, stop, assessment), one "
        f"transaction each: {time.perf_counter() - t0:.2f} s; {_load()}"
    )
    _compare(
        f"after {len(targets)} new scores and {len(new_sessions)} new sessions (the page "
        "drains them)",
        args.repeat,
        user,
    )
    if args.profile:
        _profile(user)
    _take_back_sessions()  # so that --reuse starts from the same clinic

    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak RSS {rss_before / 1024:.0f} MB before the rebuild, {rss_after / 1024:.0f} MB at "
        f"the end; for reference, full rebuild + page {refresh_s + sql_all[1]:.1f} s "
        f"(ratio {(refresh_s + sql_all[1]) / sql_all[0]:.2f}x); {_load()}"
    )
    # The page's own memory, apart from the rebuild and the writes above (a peak is a high
    # mark: only a fresh process shows what the page alone needs).
    subprocess.run([sys.executable, "-m", "bench", "outcomes", "--page-memory-only"], check=True)


def _peak_kb() -> int:
    """This process's peak resident memory in kB. Linux keeps `ru_maxrss` across exec (a
    child started by the bench would report the bench's own peak); /proc's VmHWM belongs to
    the process's own memory map, new at exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _page_memory(user: Any) -> None:
    """In a fresh process: the peak RSS before and after the page's figures (drain check, then
    every figure), all patients and then one disorder."""
    from ketaclinic.outcomes.rules.definitions import shipped_definitions
    from ketaclinic.outcomes.selectors import Filters, clinic_outcomes
    from ketaclinic.outcomes.services import outcomes_current

    defs = shipped_definitions()
    before = _peak_kb()
    for disorder in ("", "social"):
        outcomes_current(acting_user=user, definitions=defs)
        filters = Filters(measure="gad7", timepoint="post_induction", disorder=disorder)
        clinic_outcomes(user, filters, defs)
    after = _peak_kb()
    print(
        f"the page alone, in a fresh process: peak RSS {before / 1024:.0f} MB before, "
        f"{after / 1024:.0f} MB after every figure (all patients, then one disorder); {_load()}"
    )


def _take_back_sessions() -> None:
    """The sessions a run charted (and their charts): the generated ones are all induction."""
    from ketaclinic.infusions.models import (
        ChartEntry,
        DoseCheck,
        Session,
        SessionAlert,
        VitalsReading,
    )

    made = Session.objects.filter(phase="maintenance", chair__name="Bench chair")
    for model in (SessionAlert, ChartEntry, VitalsReading, DoseCheck):
        model.objects.filter(session__in=made).delete()
    made.delete()


def _profile(user: Any) -> None:
    """cProfile of the page's figures once, all patients (the top functions by own time)."""
    import cProfile
    import pstats

    from ketaclinic.outcomes.selectors import Filters, clinic_outcomes
    from ketaclinic.outcomes.services import outcomes_current

    profile = cProfile.Profile()
    profile.enable()
    outcomes_current(acting_user=user)
    clinic_outcomes(user, Filters(measure="gad7", timepoint="post_induction"))
    profile.disable()
    pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(12)


def _sections(user: Any) -> None:
    """Where the page's time goes, all patients: each section of its figures alone."""
    from ketaclinic.outcomes.rules.definitions import shipped_definitions
    from ketaclinic.outcomes.selectors import Filters, cells_for, clinic_outcomes
    from ketaclinic.outcomes.selectors.clinic import durability_for, trajectory_for
    from ketaclinic.outcomes.selectors.safety import safety_for

    defs = shipped_definitions()
    filters = Filters(measure="gad7", timepoint="post_induction")
    sections: list[tuple[str, Any]] = [
        ("response and remission cells", lambda: cells_for(filters, defs, defs.measure("gad7"))),
        ("trajectories (quartiles by infusion)", lambda: trajectory_for(filters)),
        ("durability (Kaplan-Meier)", lambda: durability_for(filters)),
        ("safety per 100 infusions (every session given)", lambda: safety_for(filters)),
        ("whole page (clinic_outcomes)", lambda: clinic_outcomes(user, filters, defs)),
    ]
    for name, section in sections:
        t0 = time.perf_counter()
        section()
        print(f"   page section, all patients: {name} {time.perf_counter() - t0:.2f} s; {_load()}")


def _compare(label: str, repeat: int, user: Any) -> tuple[float, float]:
    """The page (upkeep + figures) beside the SQL, all patients and social anxiety. The first
    app run of the first case drains what is dirty; best of ``repeat`` would hide it, so the
    first run is printed too. Returns (SQL s, page s) for all patients."""
    result = (0.0, 0.0)
    print(f"-- {label}")
    for name, disorder, prefix in (("all patients", "", ""), ("social anxiety", "social", "F401")):
        cells_times, page_times, sql_times = [], [], []
        app_counts = sql_counts = (0, 0, 0, 0)
        for _ in range(repeat):
            seconds, sql_counts = _sql(prefix)
            sql_times.append(seconds)
            cells_s, page_s, app_counts = _app(disorder, user)
            cells_times.append(cells_s)
            page_times.append(page_s)
            assert app_counts == sql_counts, (app_counts, sql_counts)
        sql_s = min(sql_times)
        first, worst = cells_times[0], max(cells_times)
        print(
            f"{name}: hand-written SQL {sql_s:.2f} s; upkeep + response and remission cells "
            f"first {first:.3f} s, worst {worst:.3f} s (ratio {worst / sql_s:.2f}x); upkeep + "
            f"every figure of the page {max(page_times):.3f} s (ratio "
            f"{max(page_times) / sql_s:.2f}x); counts (started, with data, responded, "
            f"remitted) app {app_counts} SQL {sql_counts}: match exactly; {_load()}"
        )
        if not disorder:
            result = (sql_s, max(page_times))
    return result
