"""Vitals posts through the real app beside a thin baseline, on PostgreSQL: `python -m bench`.

The app path is the whole of it: bearer-token auth, strict validation, plausibility, the
protocol's alert rules, the audit event, one transaction (`ketaclinic serve`, granian, 2
workers). The baseline is a minimal WSGI app that inserts the same row with psycopg and nothing
else, under the same server with the same workers. Each is loaded in turn by a bounded Python
load generator (threads, keep-alive connections on 127.0.0.1, a fixed duration); the bench
prints both rates, the p50/p99 latencies and the ratio. Target: the app at 0.5x the baseline
or better, p99 under 50 ms at 8 connections.

Without KETACLINIC_BENCH_DATABASE_URL the bench starts its own PostgreSQL (initdb in a
temporary directory, as the postgres user when run as root, like .ci/run) and removes it after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench import sweep

HOST = "127.0.0.1"  # loopback only: the load never leaves the machine
ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 60.0
MAX_CONNECTIONS = 32

BASELINE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_vitals (
    id bigserial PRIMARY KEY,
    session_id uuid NOT NULL,
    at timestamptz NOT NULL,
    phase varchar(16) NOT NULL,
    systolic_mmhg smallint NOT NULL,
    diastolic_mmhg smallint NOT NULL,
    heart_rate_bpm smallint NOT NULL,
    spo2_percent smallint NOT NULL,
    respiratory_rate smallint NOT NULL,
    moaas smallint,
    idempotency_key varchar(100) NOT NULL,
    recorded_by_id integer NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_vitals_session_at ON bench_vitals (session_id, at);
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(command: str, *, check: bool = True) -> None:
    """Run a PostgreSQL tool: as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command]
    else:
        argv = ["/bin/sh", "-c", command]
    # The command is built here from paths and numbers of our own, never from input.
    subprocess.run(argv, check=check)  # noqa: S603


STATEMENTS_ENV = "KETACLINIC_BENCH_STATEMENTS"


@contextmanager
def postgresql() -> Iterator[tuple[str, Path | None]]:
    """A database URL: KETACLINIC_BENCH_DATABASE_URL, or a PostgreSQL started here (with its
    data directory, so that its CPU time can be counted)."""
    given = os.environ.get("KETACLINIC_BENCH_DATABASE_URL")
    if given:
        yield given, None
        return
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql), or set "
                 "KETACLINIC_BENCH_DATABASE_URL")  # fmt: skip
    pgbin = versions[-1]
    data = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-pg."))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    log = data / "server.log"
    _as_postgres(f"{pgbin}/initdb -D {data} -A trust -U postgres >/dev/null")
    # KETACLINIC_BENCH_STATEMENTS=1: pg_stat_statements loaded, for a bench that prints what
    # its statements cost (`bench monitors`); not set, the server runs as installed.
    statements = os.environ.get(STATEMENTS_ENV) == "1"
    preload = " -c shared_preload_libraries=pg_stat_statements" if statements else ""
    _as_postgres(
        f"{pgbin}/pg_ctl -D {data} -l {log} -o '-k {data} -p {port} "
        f"-c listen_addresses={HOST} -c max_connections=100{preload}' -w start >/dev/null"
    )
    try:
        _as_postgres(f"{pgbin}/createdb -h {HOST} -p {port} -U postgres ketaclinic")
        yield f"postgresql://postgres@{HOST}:{port}/ketaclinic", data
    finally:
        _as_postgres(f"{pgbin}/pg_ctl -D {data} -m fast stop >/dev/null", check=False)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int, cwd: Path = ROOT) -> Iterator[int]:
    """A server process of ours (its id), stopped by that id afterwards."""
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 4:  # a few answered requests: each worker has loaded the app
            if process.poll() is not None:
                sys.exit(f"server exited early: {' '.join(argv)}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                ready += 1
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    sys.exit(f"server did not answer on {port}: {' '.join(argv)}")
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _children(pids: list[int]) -> list[int]:
    """These processes and all their descendants (Linux /proc; empty elsewhere)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(parents.get(pid, []))
    return sorted(found)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU time per process group over the measured window: the server (with its workers),
    PostgreSQL (all its processes, when the bench started it) and the load generator."""

    server_pid: int
    postgres_pid: int | None
    start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    spent: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_1m: tuple[float, float] = (0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        postgres = _cpu_seconds(_children([self.postgres_pid])) if self.postgres_pid else 0.0
        return _cpu_seconds(_children([self.server_pid])), postgres, time.process_time()

    def begin(self) -> None:
        self.start = self._now()
        self.load_1m = (os.getloadavg()[0], 0.0)

    def end(self) -> None:
        now = self._now()
        self.spent = (now[0] - self.start[0], now[1] - self.start[1], now[2] - self.start[2])
        self.load_1m = (self.load_1m[0], os.getloadavg()[0])


@dataclass
class Result:
    name: str
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu: CpuMeter | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _body(n: int) -> bytes:
    # Every tenth post crosses the protocol's heart-rate threshold, so alerts are raised too.
    vitals = {
        "at": datetime.now(UTC).isoformat(),
        "systolic": 118 + n % 7,
        "diastolic": 76 + n % 5,
        "heart_rate": 115 if n % 10 == 0 else 70 + n % 9,
        "spo2": 97,
        "resp_rate": 14,
        "moaas": 5,
    }
    return json.dumps(vitals).encode()


Request = tuple[str, str, bytes | None, dict[str, str]]
"""One HTTP request of a load run: method, path, body, headers."""


def drive(
    name: str,
    port: int,
    *,
    request: Callable[[int, int], Request],
    good: Callable[[int, bytes], bool],
    connections: int,
    seconds: float,
    warmup: float,
    cpu: CpuMeter | None = None,
) -> Result:
    """`connections` threads, each a keep-alive connection sending `request(index, n)` (its
    connection's index, its n-th request) for `warmup` + `seconds`; an answer counts when
    `good(status, body)`. Only the measured window counts (and its CPU time, if metered)."""
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    failures: list[str] = []

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        ok = errors = n = 0
        while True:
            began = time.monotonic()
            if began >= stop_at:
                break
            n += 1
            method, path, body, headers = request(index, n)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                passed = good(response.status, answer)
                if not passed and not failures:
                    failures.append(f"{response.status} {answer[:300]!r}")
            except (OSError, http.client.HTTPException) as exc:
                if not failures:
                    failures.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                passed = False
            ended = time.monotonic()
            if began >= start_at and ended <= stop_at:
                if passed:
                    ok += 1
                    mine.append((ended - began) * 1000)
                else:
                    errors += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    if cpu is not None:
        time.sleep(max(0.0, start_at - time.monotonic()))
        cpu.begin()
        time.sleep(max(0.0, stop_at - time.monotonic()))
        cpu.end()
    for thread in threads:
        thread.join()
    if failures:
        print(f"{name}: first failure: {failures[0]}", file=sys.stderr)
    return Result(name, counts["ok"], counts["errors"], seconds, latencies, cpu)


def load(
    name: str,
    port: int,
    sessions: list[str],
    token: str,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    cpu: CpuMeter | None = None,
) -> Result:
    """Each connection posts vitals for its own session (`drive`)."""
    # Keys unique to this run: a setting measured twice (or a bench database reused) must
    # not be answered from the idempotency store (200, a replay) instead of writing.
    run = uuid.uuid4().hex[:12]

    def request(index: int, n: int) -> Request:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": f"bench-{run}-{index}-{n}",
        }
        path = f"/api/v1/sessions/{sessions[index % len(sessions)]}/vitals"
        return "POST", path, _body(n), headers

    return drive(
        name,
        port,
        request=request,
        good=lambda status, _answer: status == 201,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        cpu=cpu,
    )


def _report(result: Result) -> str:
    line = (
        f"{result.name:<44} {result.rate:8.0f} req/s   p50 {result.percentile(0.50):6.1f} ms"
        f"   p99 {result.percentile(0.99):6.1f} ms   errors {result.errors}"
    )
    cpu = result.cpu
    if cpu is None or not result.ok:
        return line
    per = [spent / result.ok * 1000 for spent in cpu.spent]
    postgres = f"{per[1]:.2f}" if cpu.postgres_pid else "?"
    cores = sum(cpu.spent) / result.seconds
    return (
        f"{line}\n    CPU per request: server {per[0]:.2f} ms, PostgreSQL {postgres} ms, "
        f"load generator {per[2]:.2f} ms; {cores:.2f} of {os.cpu_count()} cores; "
        f"load average {cpu.load_1m[0]:.1f} -> {cpu.load_1m[1]:.1f}"
    )


def _postmaster_pid(data: Path | None) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0]) if data else None
    except (OSError, ValueError, IndexError):
        return None


def main() -> None:
    if sys.argv[1:2] == ["pages"]:  # the page benchmark: bench/pages.py
        from bench import pages

        pages.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["bulk"]:  # the Bulk Data export benchmark: bench/bulk.py
        from bench.bulk import main as bulk_main

        bulk_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["fhir-search"]:  # the FHIR search benchmark: bench/fhir_search.py
        from bench.fhir_search import main as fhir_search_main

        fhir_search_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["outcomes"]:  # the outcomes benchmark: bench/outcomes.py
        from bench.outcomes import main as outcomes_main

        outcomes_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="run the app at every --sweep-workers x --sweep-threads setting (bench/sweep.py)",
    )
    parser.add_argument("--sweep-workers", default="1,2,4", help="e.g. 1,2,4")
    parser.add_argument("--sweep-threads", default="1,2,4", help="e.g. 1,2,4")
    args = parser.parse_args()
    try:
        runs = sweep.settings_to_run(
            sweep.parse_list(args.sweep_workers), sweep.parse_list(args.sweep_threads)
        )
    except ValueError as error:
        sys.exit(str(error))
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        sys.exit(f"--connections must be 1-{MAX_CONNECTIONS}")
    if not 0 < args.seconds <= MAX_SECONDS or not 0 <= args.warmup <= MAX_SECONDS:
        sys.exit(f"--seconds and --warmup must be at most {MAX_SECONDS}")

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
        subprocess.run(  # noqa: S603
            [python, "-m", "ketaclinic", "migrate", "--noinput"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        made = subprocess.run(  # noqa: S603
            [python, "-m", "bench.fixtures", str(args.connections)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        fixture = json.loads(made.stdout.strip().splitlines()[-1])
        dsn = urlsplit(database_url)._replace(scheme="postgresql").geturl()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(BASELINE_TABLE)
            version = conn.execute("SHOW server_version").fetchone()

        print(
            f"vitals POST on PostgreSQL {version[0] if version else '?'}: {args.connections} "
            f"connections, {args.seconds:g} s each after {args.warmup:g} s warm-up, "
            f"{args.workers} granian workers, loopback"
        )
        load_1m = os.getloadavg()[0]
        cores = os.cpu_count() or 1
        if load_1m > cores:
            # Every database round trip waits for the scheduler on a busy machine; the app
            # makes several per post and the baseline two, so the ratio is skewed: re-run idle.
            print(f"warning: load average {load_1m:.1f} on {cores} cores; figures are unreliable")
        results: list[Result] = []
        port = free_port()
        baseline_argv = [
            python, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", str(port),
            "--workers", str(args.workers), "--blocking-threads", "4", "--no-access-log",
            "bench.baseline:application",
        ]  # fmt: skip
        with server(baseline_argv, env | {"BENCH_BASELINE_DSN": dsn}, port) as pid:
            results.append(
                load(
                    "baseline (granian + psycopg INSERT only)",
                    port,
                    fixture["sessions"],
                    fixture["token"],
                    connections=args.connections,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    cpu=CpuMeter(pid, _postmaster_pid(data)),
                )
            )
        print(_report(results[-1]), flush=True)
        if args.sweep:
            baseline = results[-1]
            base_load = baseline.cpu.load_1m[1] if baseline.cpu else os.getloadavg()[0]

            def measure(workers: int, threads: int) -> sweep.Row:
                port = free_port()
                argv = [
                    python, "-m", "ketaclinic", "serve", "--bind", f"{HOST}:{port}",
                    "--workers", str(workers), "--threads", str(threads),
                ]  # fmt: skip
                with server(argv, env, port) as pid:
                    result = load(
                        f"app {workers}x{threads}",
                        port,
                        fixture["sessions"],
                        fixture["token"],
                        connections=args.connections,
                        seconds=args.seconds,
                        warmup=args.warmup,
                        cpu=CpuMeter(pid, _postmaster_pid(data)),
                    )
                cpu_ms = result.cpu.spent[0] / result.ok * 1000 if result.cpu and result.ok else 0
                return sweep.Row(
                    workers,
                    threads,
                    result.rate,
                    result.percentile(0.50),
                    result.percentile(0.99),
                    result.errors,
                    cpu_ms,
                    os.getloadavg()[0],
                )

            print(f"sweep: {len(runs)} settings, {args.connections} connections", flush=True)
            rows = sweep.run_sweep(measure, runs)
            print(sweep.table(rows, baseline.rate, base_load))
            return
        port = free_port()
        app_argv = [
            python, "-m", "ketaclinic", "serve", "--bind", f"{HOST}:{port}",
            "--workers", str(args.workers),
        ]  # fmt: skip
        with server(app_argv, env, port) as pid:
            results.append(
                load(
                    "KetaClinic (auth, rules, audit, 1 transaction)",
                    port,
                    fixture["sessions"],
                    fixture["token"],
                    connections=args.connections,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    cpu=CpuMeter(pid, _postmaster_pid(data)),
                )
            )
        print(_report(results[-1]))
        baseline, app = results
        ratio = app.rate / baseline.rate if baseline.rate else float("nan")
        p99 = app.percentile(0.99)
        print(
            f"ratio app/baseline: {ratio:.2f}x (target >= 0.50x: "
            f"{'met' if ratio >= 0.5 else 'NOT met'}); app p99 {p99:.1f} ms "
            f"(target < 50 ms: {'met' if p99 < 50 else 'NOT met'})"
        )
        if app.cpu and baseline.cpu and app.ok and baseline.ok and data is not None:
            # When the machine's cores are all busy, the ratio of rates is bounded by the
            # inverse of this ratio of CPU spent per request (server, database and load).
            per_app = sum(app.cpu.spent) / app.ok
            per_baseline = sum(baseline.cpu.spent) / baseline.ok
            print(
                f"CPU per request app/baseline: {per_app / per_baseline:.1f}x "
                f"({per_app * 1000:.2f} ms vs {per_baseline * 1000:.2f} ms): on saturated cores "
                f"the ratio of rates is at most about {per_baseline / per_app:.2f}x"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["monitors"]:  # the monitor-feed bench (bench/monitors.py)
        from bench.monitors import main as monitors_main

        monitors_main(sys.argv[2:])
    else:
        main()
