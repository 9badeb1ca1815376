"""The suite fits CI's limit: `make pytest` runs on every core (pytest-xdist), CI runs the
thousand-case tests and the drills on one database each and prints each run's time, and
browser tests never run two Chromiums at once."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from django.conf import LazySettings

from ketaclinic.testing.browser import one_chromium_at_a_time

ROOT = Path(__file__).resolve().parents[1]


def _recipe(makefile: str, target: str) -> str:
    return makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]


def test_make_pytest_runs_the_tests_on_every_core() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PYTEST_WORKERS \?= auto$", makefile, re.MULTILINE)
    pytest_line = _recipe(makefile, "pytest").splitlines()[-1]
    assert "-n $(PYTEST_WORKERS) --dist load $(PYTEST_ARGS)" in pytest_line
    # A developer's `make test` still runs everything, in parallel: lint, types, pytest.
    assert re.search(r"^test: lint types pytest$", makefile, re.MULTILINE)
    assert re.search(r"^pytest-xdist==\d", (ROOT / "constraints.txt").read_text(), re.MULTILINE)


def test_ci_runs_thousand_case_tests_on_sqlite_and_drills_on_postgresql_timed() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    runs = [line for line in ci.splitlines() if re.match(r"\w.*\bmake (test|pytest)\b", line)]
    assert len(runs) == 2, runs
    sqlite_run, postgres_run = runs
    assert "make test " in sqlite_run
    assert "make pytest " in postgres_run
    assert sqlite_run.startswith("timed ")
    assert """PYTEST_ARGS='-m "not drill"'""" in sqlite_run
    assert postgres_run.startswith("timed ")
    # The schemathesis drill (marker fuzz) runs once, on SQLite: it checks the API's answers,
    # the same code on both databases.
    # The fault drill (tests/test_fault_drill.py) is left out of that run and runs on its own
    # right after it, timed, in one process so that its figures reach the log.
    assert (
        """PYTEST_ARGS='-m "not thousand and not fuzz" --deselect tests/test_fault_drill.py'"""
        in postgres_run
    )
    assert "fuzz" not in sqlite_run
    # Postgres comes after the SQLite run, so every test runs on at least one database.
    assert ci.index(sqlite_run) < ci.index("KETACLINIC_DATABASE_URL=") < ci.index(postgres_run)
    after = ci[ci.index(postgres_run) + len(postgres_run) :]
    step = after[after.index('timed "fault drill') :].split("\n\n", 1)[0]
    assert step.split("\necho", 1)[0].rstrip().endswith("tests/test_fault_drill.py"), step
    timed = ci.split("timed() {", 1)[1].split("\n}\n", 1)[0]
    assert "/proc/loadavg" in timed
    assert "uptime" in timed
    assert "SECONDS" in timed


def test_every_test_that_races_threads_on_the_database_is_a_drill() -> None:
    # A ThreadPoolExecutor(1) runs one thing beside the test (the monitors' browser test runs
    # the simulated monitor's asyncio client there, Playwright holding this thread's loop):
    # one worker races nothing.
    racing = re.compile(r"threading\.Barrier|ThreadPoolExecutor\((?!1\))")
    files = sorted((ROOT / "ketaclinic").glob("**/tests/test_*.py"))
    races = [path for path in files if racing.search(path.read_text())]
    assert len(races) >= 4
    for path in races:
        text = path.read_text()
        # Each function that starts the threads carries the marker (decorators above it).
        for match in re.finditer(r"((?:@.*\n)*)def (test_\w+)\(", text):
            body = text[match.end() :].split("\ndef ", 1)[0]
            if racing.search(body):
                assert "@pytest.mark.drill" in match.group(1), f"{path.name}::{match.group(2)}"


def test_only_one_chromium_runs_at_a_time(settings: LazySettings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    entered = threading.Event()

    def second_worker() -> None:
        with one_chromium_at_a_time():
            entered.set()

    with one_chromium_at_a_time():
        other = threading.Thread(target=second_worker)
        other.start()
        time.sleep(0.5)
        assert not entered.is_set()  # waits while the first holds the lock
    other.join(timeout=30)
    assert entered.is_set()
    assert (tmp_path / "browser.lock").exists()
