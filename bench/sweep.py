"""The serving sweep: `python -m bench --sweep` runs the vitals post through `ketaclinic serve`
at every workers x threads setting given, against the same PostgreSQL, beside one thin
baseline measured in the same run, and prints a table (posts/s, ratio to the baseline,
p50/p99, errors, server CPU per post, load average). `ketaclinic serve` defaults to the
setting it found best on the project's machine (bench/README.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

MAX_RUNS = 16  # bounded: each run is a server start plus warm-up plus the measured seconds


@dataclass(frozen=True)
class Row:
    workers: int
    threads: int
    rate: float
    p50: float
    p99: float
    errors: int
    server_cpu_ms: float
    load_1m: float


def parse_list(raw: str) -> list[int]:
    values = [int(part) for part in raw.split(",") if part.strip()]
    if not values or any(not 1 <= v <= 16 for v in values):
        raise ValueError(f"want a comma-separated list of 1-16, got {raw!r}")
    return values


def settings_to_run(workers: list[int], threads: list[int]) -> list[tuple[int, int]]:
    runs = [(w, t) for w in workers for t in threads]
    if len(runs) > MAX_RUNS:
        raise ValueError(f"{len(runs)} settings; at most {MAX_RUNS} per sweep")
    return runs


def table(rows: list[Row], baseline_rate: float, baseline_load: float) -> str:
    lines = [
        f"thin baseline: {baseline_rate:.0f} posts/s (load average {baseline_load:.1f})",
        "",
        "| workers | threads | posts/s | vs baseline | p50 ms | p99 ms | errors "
        "| server CPU/post | load 1m |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = row.rate / baseline_rate if baseline_rate else float("nan")
        lines.append(
            f"| {row.workers} | {row.threads} | {row.rate:.0f} | {ratio:.2f}x | "
            f"{row.p50:.1f} | {row.p99:.1f} | {row.errors} | {row.server_cpu_ms:.2f} ms "
            f"| {row.load_1m:.1f} |"
        )
    best = best_row(rows)
    if best is not None:
        lines += [
            "",
            f"best: {best.workers} workers x {best.threads} threads "
            f"({best.rate:.0f} posts/s, p99 {best.p99:.1f} ms) on {os.cpu_count()} cores",
        ]
    return "\n".join(lines)


def best_row(rows: list[Row]) -> Row | None:
    """The fastest setting without errors; within 5% of it, the one with the shorter p99."""
    clean = [row for row in rows if row.errors == 0 and row.rate > 0]
    if not clean:
        return None
    top = max(row.rate for row in clean)
    close = [row for row in clean if row.rate >= 0.95 * top]
    return min(close, key=lambda row: row.p99)


def run_sweep(measure: Callable[[int, int], Row], runs: list[tuple[int, int]]) -> list[Row]:
    rows = []
    for workers, threads in runs:
        row = measure(workers, threads)
        print(
            f"  {workers} workers x {threads} threads: {row.rate:.0f} posts/s, "
            f"p99 {row.p99:.1f} ms, load {row.load_1m:.1f}",
            flush=True,
        )
        rows.append(row)
    return rows
