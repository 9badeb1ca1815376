"""The bedside-monitor feed on PostgreSQL: `python -m bench monitors`.

N simulated monitors (default 200), one per chair with an infusing session, each an MLLP
client of `ketaclinic monitors listen` (a real process), sending one ORU^R01 with 5 readings
(systolic, diastolic, heart rate, SpO2, respiratory rate) every 10 s: readings stored per
second and the ACK latency p50/p99 (from the frame sent to its ACK, at the monitor). Then a
burst: every monitor sends back to back for a fixed time. Beside it, in the same run, a
baseline inserts the same rows (the message kept raw and its vitals row) with psycopg
`executemany`, committing per the listener's batch size: the burst's ratio to it.

Targets (issue 17): steady ACK p99 < 200 ms; burst >= 0.3x the baseline's rows/s.
Every figure is printed beside the load average. Scale is a parameter (--monitors, --seconds).
`--profile BATCHES`: instead, cProfile what the listener does per message (in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

import psycopg

from bench.__main__ import (
    HOST,
    ROOT,
    STATEMENTS_ENV,
    CpuMeter,
    _postmaster_pid,
    free_port,
    postgresql,
)
from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.feed.client import RETRIES, MonitorLink, ack_fields
from ketaclinic.monitors.feed.mllp import MllpDecoder, frame

MAX_MONITORS = 400
MAX_SECONDS = 120.0
READINGS_PER_MESSAGE = 5


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _device(n: int) -> str:
    return f"00A0C8FFFE{n:06X}"


def make_fixtures(monitors: int) -> None:
    """Run in a subprocess with the app's environment: the personas, and per simulated
    monitor a chair, a synthetic patient of its own with a course and an infusing session,
    and a registered monitor (until 2026-12-03 every session was the same patient's: no
    clinic infuses one patient in 200 chairs, and the outcomes trigger and the audit rows'
    patient index saw one patient only)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.courses.models import Chair, Course, Protocol
    from ketaclinic.infusions.models import Session
    from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
    from ketaclinic.monitors.models import MonitorDevice
    from ketaclinic.testing import make_clinic, make_patient

    clinic = make_clinic()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    now = timezone.now()
    for n in range(monitors):
        chair = Chair.objects.create(name=f"Bench chair {n}")
        patient = make_patient(
            given_name=f"Bench{n}", email=f"bench{n}@example.org", phone=f"555-{n:04d}"
        )
        course = Course.objects.create(
            patient=patient, protocol=protocol, started_by=clinic.users["ada"]
        )
        Session.objects.create(
            course=course,
            chair=chair,
            phase="induction",
            start=now - timedelta(minutes=10),
            chair_until=now + timedelta(hours=2),
            created_by=clinic.users["ben"],
            status="infusing",
        )
        MonitorDevice.objects.create(name=f"Bench monitor {n}", device_id=_device(n), chair=chair)
    print(json.dumps({"monitors": monitors}))


CONTROL_MARK = "B-CONTROL-ID"


@functools.lru_cache(maxsize=4 * MAX_MONITORS)
def _rendered(n: int, now: datetime) -> bytes:
    """Monitor n's message for this second, its control id a mark: rendered once a second
    (rendering cost the simulated monitors ~40 us a message, in this process, on the same
    two cores as the listener; real monitors are other machines)."""
    tick = int(now.timestamp()) + n
    return samples.render(
        samples.SAMPLES["ge"],
        now=now,
        nibp=now,  # the cuff with the periodic values: one set of 5 readings
        control=CONTROL_MARK,
        device=_device(n),
        hr=60 + (tick % 30),
        spo2=95 + (tick % 4),
        rr=12 + (tick % 5),
        sys=110 + (tick % 20),
        dia=70 + (tick % 10),
    ).encode()


def _message(n: int, seq: int) -> tuple[str, bytes]:
    control = f"B{n:03d}-{seq:06d}"
    payload = _rendered(n, datetime.now(UTC).replace(microsecond=0))
    return control, payload.replace(CONTROL_MARK.encode(), control.encode())


async def _steady(port: int, monitors: int, seconds: float, period: float) -> list[float]:
    latencies: list[float] = []
    failures = 0

    async def one(n: int) -> None:
        nonlocal failures
        link = MonitorLink(HOST, port, timeout=30)
        await asyncio.sleep(period * n / monitors)  # monitors are not in step
        seq, started = 0, time.monotonic()
        try:
            while time.monotonic() - started < seconds:
                tick = time.monotonic()
                control, payload = _message(n, seq)
                sent = await link.send(payload, control)
                seq += 1
                if sent.ack_code == "AA":
                    latencies.append(sent.latency_s)
                else:
                    failures += 1
                await asyncio.sleep(max(0.0, period - (time.monotonic() - tick)))
        finally:
            await link.close()

    await asyncio.gather(*(one(n) for n in range(monitors)))
    if failures:
        print(f"  {failures} messages not acknowledged AA")
    return latencies


class _BurstMonitor(asyncio.Protocol):
    """One simulated monitor in the burst: sends its next message as soon as the ACK of the
    last one came, until `deadline`. A protocol (callbacks) rather than `MonitorLink`'s
    stream reader and `wait_for` (a task per read on Python 3.11): the simulated monitors
    run in this process on the same two cores as the listener and PostgreSQL, and real
    monitors are other machines (issue 17). The messages are the same (`_message`), and
    every ACK is checked as `MonitorLink.send` checks it: its code, and that it names the
    message's control id; AE or no ACK for it is resent as GE monitors do (up to `RETRIES`
    more times), a mismatched ACK or a closed connection counted as a failure."""

    def __init__(self, n: int, deadline: float, done: asyncio.Future[None]) -> None:
        self.n, self.deadline, self.done = n, deadline, done
        self.seq = 100_000
        self.decoder = MllpDecoder()
        self.transport: asyncio.Transport | None = None
        self.control, self.payload, self.tries, self.sent_at = "", b"", 0, 0.0
        self.latencies: list[float] = []
        self.failures = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if time.monotonic() >= self.deadline:
            self.transport.close()
            return
        self.control, self.payload = _message(self.n, self.seq)
        self.seq += 1
        self.tries = 0
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.tries += 1
        self.sent_at = time.perf_counter()
        self.transport.write(frame(self.payload))

    def data_received(self, data: bytes) -> None:
        for got in self.decoder.feed(data):
            if not got.ok:
                continue
            code, acked, _text = ack_fields(got.payload)
            if acked != self.control:
                self.failures += 1
                self._next()
            elif code == "AA":
                self.latencies.append(time.perf_counter() - self.sent_at)
                self._next()
            elif code == "AE" and self.tries <= RETRIES:
                self._send()
            else:
                self.failures += 1
                self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _burst(port: int, monitors: int, seconds: float) -> tuple[int, list[float]]:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    clients: list[_BurstMonitor] = []
    for n in range(monitors):
        done: asyncio.Future[None] = loop.create_future()
        client = _BurstMonitor(n, deadline, done)
        clients.append(client)
        await loop.create_connection(lambda client=client: client, HOST, port)  # type: ignore[misc]
    # In a thread: the burst is running, and its event loop must not wait for `ss`.
    split = await loop.run_in_executor(None, _connections_split, port)
    if split:
        print(f"  burst: connections per listener process {split}")
    await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), seconds + 120)
    latencies = [latency for c in clients for latency in c.latencies]
    failures = sum(c.failures for c in clients)
    if failures:
        print(f"  burst: {failures} messages not acknowledged AA")
    return len(latencies), latencies


def _connections_split(port: int) -> str:
    """How the kernel spread the monitors' connections over the listener processes
    (`SO_REUSEPORT` hashes each connection to one): "104 / 96", from `ss`; "" without it."""
    try:
        shown = subprocess.run(  # noqa: S603 - a fixed command, our own port number
            ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],  # noqa: S607
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    by_pid: dict[str, int] = {}
    for line in shown.splitlines():
        _, _, users = line.partition("pid=")
        pid = users.split(",", 1)[0]
        if pid:
            by_pid[pid] = by_pid.get(pid, 0) + 1
    return " / ".join(str(n) for n in sorted(by_pid.values(), reverse=True))


BASELINE_SQL = """
CREATE TABLE IF NOT EXISTS bench_monitor_message (LIKE monitors_monitormessage INCLUDING ALL);
CREATE TABLE IF NOT EXISTS bench_monitor_vitals (LIKE infusions_vitalsreading INCLUDING ALL);
"""


def _baseline(dsn: str, messages: int, batch: int) -> float:
    """Messages per second: the raw message row and its vitals row (5 readings) per message,
    inserted with executemany, a commit per `batch` messages."""
    _, payload = _message(0, 0)
    raw = payload.decode()
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(BASELINE_SQL)
        session_id = conn.execute("SELECT id FROM infusions_session LIMIT 1").fetchone()
        assert session_id is not None
        conn.commit()
        started = time.perf_counter()
        for first in range(0, messages, batch):
            count = min(batch, messages - first)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_monitor_message (received_at, raw, control_id, "
                    "message_type, sending_ids, observed_at, status, reason, parse_json, "
                    "ack_code, readings) VALUES (%s, %s, %s, 'ORU^R01', '', %s, 'charted', '', "
                    "'{}', 'AA', 1)",
                    [(now, raw, f"C{first + i}", now) for i in range(count)],
                )
                cur.executemany(
                    "INSERT INTO bench_monitor_vitals (session_id, at, phase, systolic_mmhg, "
                    "diastolic_mmhg, heart_rate_bpm, spo2_percent, respiratory_rate, "
                    "idempotency_key, recorded_at, source, device, artefact, artefact_reason) "
                    "VALUES (%s, %s, 'infusing', 120, 80, 72, 97, 14, %s, %s, 'monitor', "
                    "'bench', false, '')",
                    [(session_id[0], now, f"k{first + i}", now) for i in range(count)],
                )
            conn.commit()
        elapsed = time.perf_counter() - started
    return messages / elapsed


def profile_receive(batches: int, size: int) -> None:
    """Run in a subprocess with the app's environment (after `make_fixtures`): read `size`
    messages per batch as the listener does on arrival, then take each batch as its database
    thread does (`messages_receive`, one transaction), under cProfile; the time split between
    reading and storing, and the functions that cost most."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import cProfile
    import pstats

    import django

    django.setup()
    from ketaclinic.monitors.services import message_read, messages_receive

    raws = [[_message(n, 500_000 + b)[1] for n in range(size)] for b in range(batches)]
    messages_receive([_message(0, 499_999)[1]])  # warm: connection, caches, code book
    # BENCH_SORT=none: no profiler, the CPU of this thread (its Python, psycopg's C, the
    # sockets' system calls; not PostgreSQL's) beside the wall time: what the listener's
    # database thread spends a message, without cProfile's overhead.
    # BENCH_SORT (a pstats key, e.g. tottime) and BENCH_TOP (rows) change what is printed.
    order, top = os.environ.get("BENCH_SORT", "cumulative"), int(os.environ.get("BENCH_TOP", "25"))
    profiling = order != "none"
    read_s = store_s = read_cpu = store_cpu = 0.0
    profile = cProfile.Profile()
    for batch in raws:
        started, started_cpu = time.perf_counter(), time.thread_time()
        read = [message_read(raw) for raw in batch]
        stored, stored_cpu = time.perf_counter(), time.thread_time()
        if profiling:
            profile.enable()
        messages_receive(read)
        if profiling:
            profile.disable()
        read_s += stored - started
        store_s += time.perf_counter() - stored
        read_cpu += stored_cpu - started_cpu
        store_cpu += time.thread_time() - stored_cpu
    count = batches * size
    under = "under cProfile" if profiling else "no profiler"
    print(
        f"profile: {count} messages in batches of {size}: reading {read_s / count * 1e6:.0f} us "
        f"a message (CPU {read_cpu / count * 1e6:.0f} us), storing "
        f"{store_s / count * 1e6:.0f} us a message (CPU {store_cpu / count * 1e6:.0f} us) "
        f"({under}); {_load()}"
    )
    if not profiling:
        return
    pstats.Stats(profile).sort_stats(order).print_stats(top)


AUTOVACUUM_WAIT_MAX_S = 120.0


def _autovacuum_settled(dsn: str) -> float:
    """Seconds waited until no autovacuum worker runs (at most AUTOVACUUM_WAIT_MAX_S): the
    burst inserts tens of thousands of rows, which can set PostgreSQL vacuuming and analysing
    those tables, and a baseline measured meanwhile would share the CPU with it and make the
    ratio look better than it is. (Two baselines of 2026-12-03 ran at 6,300 and 7,600
    messages/s against 10,000-13,000 in the other runs; whether autovacuum was the cause was
    not seen: the runs after this wait never had to wait.)"""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.perf_counter() - started < AUTOVACUUM_WAIT_MAX_S:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            ).fetchone()
            if not row or not row[0]:
                break
            time.sleep(0.2)
    return time.perf_counter() - started


def _statements_reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")


def _statements_print(dsn: str, messages: int) -> None:
    """The burst's statements by time in the executor (pg_stat_statements), per message."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT calls, rows, total_exec_time, total_plan_time, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements "
            "ORDER BY total_exec_time + total_plan_time DESC LIMIT 16"
        ).fetchall()
    per = 1000 / max(messages, 1)
    print("  statements of the burst (pg_stat_statements): calls, rows, us a message, text")
    for calls, nrows, exec_ms, plan_ms, text in rows:
        print(f"  {calls:7d} {nrows:8d} {(exec_ms + plan_ms) * per:6.1f} {text}")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench monitors", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="steady mode duration")
    parser.add_argument("--period", type=float, default=10.0, help="seconds between messages")
    parser.add_argument("--burst-seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=200, help="listener's messages per commit")
    parser.add_argument("--workers", type=int, default=2, help="listener processes")
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio", help="the listener's loop"
    )
    parser.add_argument("--linger", type=float, default=2.0, help="the listener's linger, ms")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="BATCHES",
        help="instead: cProfile the listener's reading and storing on BATCHES batches",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.monitors <= MAX_MONITORS:
        sys.exit(f"--monitors must be 1-{MAX_MONITORS}")
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.burst_seconds <= MAX_SECONDS:
        sys.exit(f"durations must be at most {MAX_SECONDS} s")
    with (
        postgresql() as (database_url, data),
        tempfile.TemporaryDirectory(prefix="kc-bench.") as var,
    ):
        env = os.environ | {
            "KETACLINIC_DATABASE_URL": database_url,
            "KETACLINIC_SECRET_KEY": "bench-only-not-secret",
            "KETACLINIC_VAR_DIR": var,
            "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
        }
        python = sys.executable
        subprocess.run(  # noqa: S603 - our own console script
            [python, "-m", "ketaclinic", "migrate", "--noinput"],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(  # noqa: S603 - our own module
            [python, "-m", "bench.monitors", "--make-fixtures", str(args.monitors)],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if args.profile:
            subprocess.run(  # noqa: S603 - our own module
                [python, "-m", "bench.monitors", "--profile", str(args.profile),
                 str(min(args.batch, args.monitors))],
                env=env, cwd=ROOT, check=True,
            )  # fmt: skip
            return
        dsn = urlsplit(database_url)._replace(scheme="postgresql").geturl()
        port = free_port()
        listener = subprocess.Popen(  # noqa: S603 - our own console script
            [python, "-m", "ketaclinic", "monitors", "listen", "--bind", f"{HOST}:{port}",
             "--batch", str(args.batch), "--workers", str(args.workers), "--loop", args.loop,
             "--linger", str(args.linger)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert listener.stdout is not None
            assert "listening" in listener.stdout.readline()
            print(
                f"monitor feed on PostgreSQL: {args.monitors} monitors, one ORU^R01 "
                f"({READINGS_PER_MESSAGE} readings) per {args.period:g} s for {args.seconds:g} s; "
                f"listener batch {args.batch}, {args.workers} processes on {args.loop}; {_load()}"
            )
            started = time.perf_counter()
            steady = asyncio.run(_steady(port, args.monitors, args.seconds, args.period))
            took = time.perf_counter() - started
            print(
                f"steady: {len(steady)} messages AA, "
                f"{len(steady) * READINGS_PER_MESSAGE / took:.0f} readings/s; "
                f"ACK latency p50 {_pct(steady, 0.5) * 1000:.1f} ms, "
                f"p99 {_pct(steady, 0.99) * 1000:.1f} ms (target p99 < 200 ms); {_load()}"
            )
            statements = os.environ.get(STATEMENTS_ENV) == "1"
            if statements:
                _statements_reset(dsn)
            cpu = CpuMeter(listener.pid, _postmaster_pid(data))
            cpu.begin()
            started = time.perf_counter()
            count, burst = asyncio.run(_burst(port, args.monitors, args.burst_seconds))
            took = time.perf_counter() - started
            cpu.end()
            burst_rate = count / took
            print(
                f"burst: {count} messages AA in {took:.1f} s = {burst_rate:.0f} messages/s, "
                f"{burst_rate * READINGS_PER_MESSAGE:.0f} readings/s, "
                f"{burst_rate * 2:.0f} rows/s (message + vitals row); ACK p50 "
                f"{_pct(burst, 0.5) * 1000:.1f} ms, p99 {_pct(burst, 0.99) * 1000:.1f} ms; "
                f"{_load()}"
            )
            per = 1e6 / max(count, 1)
            print(
                f"burst CPU a message: listener {cpu.spent[0] * per:.0f} us, PostgreSQL "
                f"{cpu.spent[1] * per:.0f} us, the simulated monitors (this process) "
                f"{cpu.spent[2] * per:.0f} us"
            )
            if statements:
                _statements_print(dsn, count)
        finally:
            listener.terminate()
            listener.wait(timeout=30)
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT idempotency_key) FROM infusions_vitalsreading"
            ).fetchone()
            events = conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()
        expected = len(steady) + count
        print(
            f"stored: {row[0] if row else '?'} vitals rows ({row[1] if row else '?'} distinct "
            f"keys) for {expected} messages acknowledged AA; {events[0] if events else '?'} "
            "audit events"
        )
        waited = _autovacuum_settled(dsn)
        base = _baseline(dsn, max(expected, 1000), args.batch)
        print(
            f"baseline (psycopg executemany, same rows, commit per {args.batch}): "
            f"{base:.0f} messages/s = {base * 2:.0f} rows/s (after {waited:.1f} s waiting for "
            f"autovacuum of the burst's tables); burst/baseline "
            f"{burst_rate / base:.2f}x (target >= 0.3x); {_load()}"
        )
        verify = subprocess.run(  # noqa: S603 - our own console script
            [python, "-m", "ketaclinic", "audit", "verify"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        print(verify.stdout.strip() or verify.stderr.strip())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make-fixtures"]:
        make_fixtures(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--profile"]:
        profile_receive(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main(sys.argv[1:])
