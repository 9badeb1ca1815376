"""The page benchmark (`python -m bench pages [--scale S] [--repeat N]`), on PostgreSQL.

A clinic some years old is generated in bulk (``bulk_create`` in batches): at ``--scale 1`` the
issue's 5,000 patients, 60,000 sessions, 1,000,000 vitals readings and 200,000 scale responses
(GAD-7/PHQ-9), 1,500 vials emptied by those sessions with about 170,000 ledger entries
(`bench/ledger_history.py`: valid, hash-chained, finished markers written), with one patient
holding a long history of their own; on top of it, the demo
clinic's day (``ketaclinic demo``: today's sessions in every state, built by the services).
Then each page is requested in-process through Django's whole stack (middleware, session,
2FA, audit writes, templates) as its role would: the landing (Today) page of each role, the
patient summary, the session chart of the infusing session and the chair board, round-robin,
beside a bare Django page that runs one indexed query (the latest 20 vitals of a session),
in the same run. The outcome rows are kept current first, as a clinic's nightly job or its
outcomes page leaves them; the patient summary is measured both as found then and as first
viewed after a change of the patient's (a new score: the outcomes card computed live). It
prints p50/p95 per page, the queries per page, the ratio of each page's
p95 to the bare page's, and the load average beside every figure.

Target (issue 13): every page's p95 within 5x of the bare page's, its query count constant in
the clinic's history.

Without KETACLINIC_BENCH_DATABASE_URL the bench creates and drops its own database on the
PostgreSQL at KETACLINIC_BENCH_PG (default ``postgresql://postgres@127.0.0.1:54329``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.ledger_history import ledger_history

PAGES_DB = "ketaclinic_bench_pages"
FULL = {"patients": 5000, "sessions": 60000, "vitals": 1_000_000, "responses": 200_000}
BATCH = 5000


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _database(url: str | None) -> tuple[str, Callable[[], None]]:
    if url:
        return url, lambda: None
    import psycopg

    server = os.environ.get("KETACLINIC_BENCH_PG", "postgresql://postgres@127.0.0.1:54329")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PAGES_DB}")
        conn.execute(f"CREATE DATABASE {PAGES_DB}")

    def drop() -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PAGES_DB} WITH (FORCE)")

    return f"{server}/{PAGES_DB}", drop


def _bulk(model: Any, rows: list[Any]) -> None:
    model.objects.bulk_create(rows, batch_size=BATCH)
    rows.clear()


def generate(scale: float) -> dict[str, int]:
    """The clinic's history, in bulk (synthetic; past sessions are written as signed rows
    without their frozen record: the pages measured read the day and the lists, not it)."""
    from django.utils import timezone

    from ketaclinic.accounts.models import User
    from ketaclinic.courses.models import Chair, Course, Protocol
    from ketaclinic.infusions.models import Session, VitalsReading
    from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
    from ketaclinic.patients.models import Patient
    from ketaclinic.scales.models import Administration

    counts = {name: max(1, int(value * scale)) for name, value in FULL.items()}
    rng = random.Random(13)  # noqa: S311  synthetic data
    now = timezone.now()
    nurse = User.objects.get(username="ben")
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    chairs = list(Chair.objects.order_by("name"))
    history_chair = Chair.objects.create(name="History chair")
    patients: list[Any] = []
    for n in range(counts["patients"]):
        patients.append(
            Patient(
                mrn=f"BX{n:08d}",
                given_name=f"Given{n}",
                family_name=f"Family{n % 977}",
                birth_date=date(1950, 1, 1) + timedelta(days=rng.randrange(0, 20000)),
                sex_at_birth=rng.choice(["female", "male"]),
                email=f"p{n}@example.org",
            )
        )
    Patient.objects.bulk_create(patients, batch_size=BATCH)
    courses = [
        Course(patient=p, protocol=protocol, status="ended", started_by=nurse) for p in patients
    ]
    Course.objects.bulk_create(courses, batch_size=BATCH)
    five_years = 5 * 365 * 24 * 60
    sessions: list[Any] = []
    session_ids: list[uuid.UUID] = []
    starts: list[Any] = []
    for n in range(counts["sessions"]):
        start = now - timedelta(minutes=rng.randrange(60 * 24 * 2, five_years))
        sid = uuid.uuid4()
        session_ids.append(sid)
        starts.append(start)
        sessions.append(
            Session(
                id=sid,
                course=courses[n % len(courses)],
                chair=history_chair if n % 3 else chairs[n % len(chairs)],
                phase="induction",
                start=start,
                chair_until=start + timedelta(hours=2),
                status="signed",
                created_by=nurse,
            )
        )
        if len(sessions) >= BATCH:
            _bulk(Session, sessions)
    _bulk(Session, sessions)
    per_session = max(1, counts["vitals"] // counts["sessions"])
    vitals: list[Any] = []
    for n in range(counts["vitals"]):
        vitals.append(
            VitalsReading(
                session_id=session_ids[n // per_session % len(session_ids)],
                at=now - timedelta(days=3, minutes=n % 100000),
                phase="infusing",
                systolic_mmhg=110 + n % 30,
                diastolic_mmhg=70 + n % 15,
                heart_rate_bpm=60 + n % 30,
                spo2_percent=95 + n % 5,
                respiratory_rate=12 + n % 6,
                recorded_by=nurse,
            )
        )
        if len(vitals) >= BATCH:
            _bulk(VitalsReading, vitals)
    _bulk(VitalsReading, vitals)
    responses: list[Any] = []
    for n in range(counts["responses"]):
        code = "gad7" if n % 2 else "phq9"
        items = 7 if code == "gad7" else 9
        answers = {str(i): (n + i) % 3 for i in range(1, items + 1)}
        if code == "phq9":
            answers["9"] = 0
        responses.append(
            Administration(
                patient=patients[n % len(patients)],
                instrument=code,
                answers=answers,
                total=sum(answers.values()),
                band="moderate",
                administered_at=now - timedelta(minutes=rng.randrange(60, five_years)),
                entered_by=nurse,
                mode="staff_entry",
            )
        )
        if len(responses) >= BATCH:
            _bulk(Administration, responses)
    _bulk(Administration, responses)
    written = ledger_history(scale, list(zip(session_ids, starts, strict=True)))
    counts.update({f"ledger_{name}": value for name, value in written.items()})
    return counts


def long_history(patient: Any, sessions: int, vitals_each: int, responses: int) -> None:
    """One demo patient with a long history of their own (the summary page's subject)."""
    from django.utils import timezone

    from ketaclinic.accounts.models import User
    from ketaclinic.courses.models import Chair, Course
    from ketaclinic.infusions.models import Session, VitalsReading
    from ketaclinic.scales.models import Administration

    now = timezone.now()
    nurse = User.objects.get(username="ben")
    course = Course.objects.filter(patient=patient).first()
    assert course is not None
    chair = Chair.objects.get(name="History chair")
    rows = [
        Session(
            course=course,
            chair=chair,
            phase="maintenance",
            start=now - timedelta(days=40 + 7 * n),
            chair_until=now - timedelta(days=40 + 7 * n) + timedelta(hours=2),
            status="cancelled",
            created_by=nurse,
        )
        for n in range(sessions)
    ]
    Session.objects.bulk_create(rows, batch_size=BATCH)
    VitalsReading.objects.bulk_create(
        [
            VitalsReading(
                session=s,
                at=s.start + timedelta(minutes=5 * k),
                phase="infusing",
                systolic_mmhg=120,
                diastolic_mmhg=80,
                heart_rate_bpm=70,
                spo2_percent=98,
                respiratory_rate=14,
                recorded_by=nurse,
            )
            for s in rows
            for k in range(vitals_each)
        ],
        batch_size=BATCH,
    )
    Administration.objects.bulk_create(
        [
            Administration(
                patient=patient,
                instrument="gad7",
                answers={str(i): 1 for i in range(1, 8)},
                total=7,
                band="mild",
                administered_at=now - timedelta(days=40 + n),
                entered_by=nurse,
                mode="staff_entry",
            )
            for n in range(responses)
        ],
        batch_size=BATCH,
    )


def _client(username: str) -> Any:
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ketaclinic.accounts.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def _outcomes_kept_current() -> None:
    """The nightly outcomes job of a clinic in use (``ketaclinic outcomes refresh``, or the
    drain the outcomes page does): the kept outcome rows current, as the patient page finds
    them until a patient's next score or session."""
    from ketaclinic.outcomes.services import outcomes_current

    began = time.monotonic()
    run = outcomes_current(acting_user=None)
    done = "already current" if run is None else f"{run.courses} courses recomputed"
    print(f"  outcome rows kept current: {done} in {time.monotonic() - began:.1f} s", flush=True)


def measure(repeat: int) -> list[tuple[str, list[float], int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ketaclinic.infusions.models import Session
    from ketaclinic.outcomes.models import DirtyPatient

    _outcomes_kept_current()
    infusing = Session.objects.select_related("course").get(
        status="infusing", start__date=timezone.localdate()
    )
    patient_id = infusing.course.patient_id

    def changed() -> None:  # a score or session of the patient's was written since
        DirtyPatient.objects.get_or_create(patient_id=patient_id)

    def drained() -> None:
        DirtyPatient.objects.filter(patient_id=patient_id).delete()

    summary = f"/patients/{patient_id}/"
    # (label, who, url, before, after): before and after run outside the timing
    pages: list[tuple[str, str, str, Callable[[], None] | None, Callable[[], None] | None]] = [
        ("bare page: one indexed query", "ben", f"/bench/bare/{infusing.pk}/", None, None),
        ("Today: nurse", "ben", "/today/", None, None),
        ("Today: clinician", "ada", "/today/", None, None),
        ("Today: intake", "cleo", "/today/", None, None),
        ("Today: administrator", "dana", "/today/", None, None),
        ("patient summary", "ada", summary, None, None),
        ("patient summary, just changed", "ada", summary, changed, drained),
        ("session chart (infusing)", "ben", f"/infusions/sessions/{infusing.pk}/", None, None),
        ("chair board", "ben", "/infusions/board/", None, None),
    ]
    clients = {page[1]: _client(page[1]) for page in pages}
    times: dict[str, list[float]] = {page[0]: [] for page in pages}
    queries: dict[str, int] = {}
    for label, who, url, before, after in pages:  # warm-up: templates, caches, statements
        for _ in range(3):
            if before:
                before()
            response = clients[who].get(url)
            assert response.status_code == 200, (label, response.status_code)
            if after:
                after()
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            clients[who].get(url)
        if after:
            after()
        queries[label] = len(captured.captured_queries)
    for _ in range(repeat):
        for label, who, url, before, after in pages:
            if before:
                before()
            began = time.perf_counter()
            response = clients[who].get(url)
            times[label].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, label
            if after:
                after()
    return [(label, times[label], queries[label]) for label, *_ in pages]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(results: list[tuple[str, list[float], int]], repeat: int) -> None:
    bare_p50 = statistics.median(results[0][1])
    bare_p95 = _p(results[0][1], 0.95)
    print(f"  {repeat} requests per page, round-robin, in-process (Django test client)")
    print(
        f"  {'page':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} "
        f"{'p50/bare':>9} {'p95/bare':>9}  load"
    )
    for label, values, n_queries in results:
        p50, p95 = statistics.median(values), _p(values, 0.95)
        print(
            f"  {label:32} {p50:8.1f} {p95:8.1f} {n_queries:8d} "
            f"{p50 / bare_p50:8.1f}x {p95 / bare_p95:8.1f}x  {_load()}",
            flush=True,
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench pages", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's clinic")
    parser.add_argument("--repeat", type=int, default=40, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the clinic an earlier --keep run left in KETACLINIC_BENCH_DATABASE_URL "
        "(same day), without building it again",
    )
    args = parser.parse_args(argv)
    url, drop = _database(os.environ.get("KETACLINIC_BENCH_DATABASE_URL"))
    os.environ["KETACLINIC_DATABASE_URL"] = url
    os.environ.setdefault("KETACLINIC_SECURE_COOKIES", "0")
    os.environ["KETACLINIC_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("KETACLINIC_SECRET_KEY", "bench-only-" + uuid.uuid4().hex)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ketaclinic.settings"
    import django
    from django.conf import settings

    django.setup()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.ROOT_URLCONF = "bench.pages_urls"
    from io import StringIO

    from django.core.management import call_command

    try:
        print(f"page benchmark on PostgreSQL, scale {args.scale} ({_load()})", flush=True)
        if args.reuse:
            _report(measure(args.repeat), args.repeat)
            return
        began = time.monotonic()
        call_command("migrate", verbosity=0)
        call_command("demo", stdout=StringIO())
        print(f"  demo clinic built in {time.monotonic() - began:.0f} s ({_load()})", flush=True)
        began = time.monotonic()
        counts = generate(args.scale)
        from ketaclinic.infusions.models import Session

        subject = Session.objects.get(status="infusing").course.patient
        long_history(subject, sessions=100, vitals_each=20, responses=300)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"  history generated in {time.monotonic() - began:.0f} s: "
            f"{counts['patients']} patients, {counts['sessions']} sessions, "
            f"{counts['vitals']} vitals, {counts['responses']} scale responses, "
            f"{counts['ledger_vials']} vials with {counts['ledger_entries']} ledger entries "
            f"({counts['ledger_finished']} finished); the summary's "
            f"patient: 100 more sessions, 2,000 vitals, 300 responses ({_load()})",
            flush=True,
        )
        _report(measure(args.repeat), args.repeat)
    finally:
        if not (args.keep or args.reuse):
            from django.db import connections

            connections.close_all()
            drop()


if __name__ == "__main__":
    main(sys.argv[1:])
