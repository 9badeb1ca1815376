"""The FHIR search benchmark (`python -m bench fhir-search`), on PostgreSQL.

PATIENTS patients x PER_PATIENT Observations (GAD-7 scores recorded through the FHIR service,
and vital signs: bench/fhir_data.py), then `GET /fhir/R4/Observation?patient=<id>&_count=20`
over HTTP through the whole app as it is deployed (`ketaclinic serve`: granian, every
middleware, the bearer token, the access check, the audited read of each entry, one
transaction), beside the thin baseline (bench/fhir_baseline.py: plain WSGI + psycopg, one
query, the same stored texts spliced into a Bundle) under the same server, workers and load
generator, in the same run. Over HTTP rather than Django's test client, so the server's cost
is counted as PERFORMANCE.md's peers count theirs. Prints requests/s, p50/p95/p99, the ratio
and the CPU per request, with the load average. Target (issue 16): the app at >= 0.5x.

`--app-root DIR` (repeatable) runs the app from other checkouts too (e.g. a detached worktree
of main), in turns with this one, against the same database and baseline; `--rounds N`
repeats the turns. Without KETACLINIC_BENCH_DATABASE_URL the bench starts its own PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.__main__ import (
    HOST,
    MAX_CONNECTIONS,
    MAX_SECONDS,
    ROOT,
    CpuMeter,
    Request,
    Result,
    _postmaster_pid,
    drive,
    free_port,
    postgresql,
    server,
)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def search_load(
    name: str,
    port: int,
    patients: list[str],
    token: str,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    cpu: CpuMeter | None = None,
) -> Result:
    """Each keep-alive connection searches patient after patient (`bench.__main__.drive`);
    an answer counts when it is a 200 with 20 matches."""
    headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {token}"}

    def request(index: int, n: int) -> Request:
        patient = patients[(index + n * connections) % len(patients)]
        return "GET", f"/fhir/R4/Observation?patient={patient}&_count=20", None, headers

    return drive(
        name,
        port,
        request=request,
        good=lambda status, answer: status == 200 and answer.count(b'"mode":"match"') == 20,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        cpu=cpu,
    )


def report(result: Result, baseline: Result | None) -> str:
    line = (
        f"  {result.name:<34} {result.rate:7.0f} req/s  p50 {result.percentile(0.50):6.1f}"
        f"  p95 {result.percentile(0.95):6.1f}  p99 {result.percentile(0.99):6.1f} ms"
        f"  errors {result.errors}"
    )
    if baseline is not None and baseline.rate:
        line += f"  ratio {result.rate / baseline.rate:.2f}x"
    cpu = result.cpu
    if cpu is not None:
        if result.ok:
            per = [spent / result.ok * 1000 for spent in cpu.spent]
            postgres = f"{per[1]:.2f}" if cpu.postgres_pid else "?"
            line += (
                f"\n    CPU per request: server {per[0]:.2f} ms, PostgreSQL {postgres} ms, "
                f"load generator {per[2]:.2f} ms;"
            )
        line += f" load average {cpu.load_1m[0]:.2f} -> {cpu.load_1m[1]:.2f}"
    return line


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench fhir-search", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--per-patient", type=int, default=50, help="Observations per patient")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=0, help="blocking threads per worker (0: serve's default)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="baseline and apps, in turns")
    parser.add_argument(
        "--app-root",
        action="append",
        default=[],
        help="also run the app from this checkout (e.g. a worktree of main), in turns",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        sys.exit(f"--connections must be 1-{MAX_CONNECTIONS}")
    if not 0 < args.seconds <= MAX_SECONDS or not 0 <= args.warmup <= MAX_SECONDS:
        sys.exit(f"--seconds and --warmup must be at most {MAX_SECONDS}")
    if args.per_patient < 20:
        sys.exit("--per-patient must be at least 20 (a full page of 20)")
    roots = [("this checkout", ROOT)] + [
        (Path(r).resolve().name, Path(r).resolve()) for r in args.app_root
    ]
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
        began = time.monotonic()
        subprocess.run(  # noqa: S603
            [python, "-m", "ketaclinic", "migrate", "--noinput"],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        made = subprocess.run(  # noqa: S603
            [python, "-m", "bench.fhir_data", str(args.patients), str(args.per_patient)],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        fixture = json.loads(made.stdout.strip().splitlines()[-1])
        print(
            f"FHIR search on PostgreSQL: {args.patients} patients x {args.per_patient} "
            f"Observations ({fixture['observations']} in all), made in "
            f"{time.monotonic() - began:.0f} s; GET /fhir/R4/Observation?patient=<id>&_count=20, "
            f"{args.connections} connections, {args.seconds:g} s after {args.warmup:g} s warm-up, "
            f"{args.workers} granian workers"
            f"{f' x {args.threads} threads' if args.threads else ''}, loopback ({_load()})",
            flush=True,
        )
        if os.getloadavg()[0] > (os.cpu_count() or 1):
            print("  warning: the machine is busy (load above its cores): compare ratios only")
        dsn = urlsplit(database_url)._replace(scheme="postgresql").geturl()
        postgres_pid = _postmaster_pid(data)
        for round_number in range(args.rounds):
            print(f" round {round_number + 1}", flush=True)
            port = free_port()
            baseline_argv = [
                python, "-m", "granian", "--interface", "wsgi", "--host", HOST,
                "--port", str(port), "--workers", str(args.workers), "--blocking-threads", "4",
                "--no-access-log", "bench.fhir_baseline:application",
            ]  # fmt: skip
            with server(baseline_argv, env | {"BENCH_BASELINE_DSN": dsn}, port) as pid:
                baseline = search_load(
                    "thin baseline (WSGI + psycopg)", port, fixture["patients"],
                    fixture["token"], connections=args.connections, seconds=args.seconds,
                    warmup=args.warmup, cpu=CpuMeter(pid, postgres_pid),
                )  # fmt: skip
            print(report(baseline, None), flush=True)
            for label, root in roots:
                port = free_port()
                app_argv = [
                    python, "-m", "ketaclinic", "serve", "--bind", f"{HOST}:{port}",
                    "--workers", str(args.workers),
                ] + (["--threads", str(args.threads)] if args.threads else [])  # fmt: skip
                # ``python -m`` puts the working directory first on sys.path: that checkout's
                # code runs, with this environment's packages.
                with server(app_argv, env | {"PYTHONPATH": str(root)}, port, cwd=root) as pid:
                    app = search_load(
                        f"app ({label})", port, fixture["patients"], fixture["token"],
                        connections=args.connections, seconds=args.seconds,
                        warmup=args.warmup, cpu=CpuMeter(pid, postgres_pid),
                    )  # fmt: skip
                print(report(app, baseline), flush=True)
        print("  target: the app at >= 0.50x the thin baseline")
