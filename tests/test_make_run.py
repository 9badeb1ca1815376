"""`make run` serves the demo clinic: the same steps, through the console script and granian."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ketaclinic.testing.served import alive, command_line, free_port, run_command
from ketaclinic.testing.served import children as served_children

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("ketaclinic")


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310  loopback only
        return int(response.status), response.read()


def test_makefile_run_target_migrates_loads_the_demo_and_serves() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    steps = re.findall(r"ketaclinic (\w+)", run)
    # The worker runs beside the server (reminders, Bulk Data exports), stopped with it.
    assert steps == ["migrate", "demo", "worker", "serve"]
    assert "--bind 127.0.0.1:8000" in run
    # It names the public site and the sign-in page (issue 13 item 10).
    assert "http://127.0.0.1:8000/" in run and "http://127.0.0.1:8000/account/login/" in run


def test_make_run_installs_only_what_the_app_needs_and_make_test_adds_the_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run_needs = makefile.split("\nrun:", 1)[1].split("\n", 1)[0].split()
    assert run_needs == ["$(APP_STAMP)"]
    app_recipe = makefile.split("\n$(APP_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e ." in app_recipe and "[dev]" not in app_recipe
    dev_recipe = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e '.[dev]'" in dev_recipe
    for target in ("test", "lint", "types", "pytest"):
        line = makefile.split(f"\n{target}:", 1)[1].split("\n", 1)[0]
        assert "$(STAMP)" in line or target == "test", target


def test_the_run_steps_serve_the_demo_clinic(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update({"KETACLINIC_VAR_DIR": str(tmp_path), "KETACLINIC_SECURE_COOKIES": "0"})
    for args in (["migrate", "--noinput"], ["demo"]):
        result = subprocess.run(  # noqa: S603  our own console script
            [str(SCRIPT), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "Logins (password for all:" in result.stdout
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [str(SCRIPT), "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(base + "/healthz")
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.2)
        assert (status, body) == (200, b"ok")
        status, body = _get(base + "/account/login/")
        assert status == 200
        assert b"KetaClinic" in body
        status, body = _get(base + "/static/vendor/pico/pico.min.css")
        assert status == 200
        assert len(body) > 10_000
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_run_recipe_serves_with_a_worker_that_runs_the_jobs_and_stops_with_it(
    tmp_path: Path,
) -> None:
    """The recipe's last line as make runs it (sh): the server answers, the worker runs the
    periodic jobs it enqueued, and Ctrl-C stops both (no orphan worker)."""
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in run.replace("\\\n", " ").splitlines()[1:]]
    command = next(line for line in lines if "ketaclinic serve" in line)
    port = free_port()
    command = (
        command.replace("$(BIN)", str(SCRIPT.parent))
        .replace("$$", "$")
        .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update({"KETACLINIC_VAR_DIR": str(tmp_path), "KETACLINIC_SECURE_COOKIES": "0"})
    run_command(env, "migrate", "--noinput")
    shell = subprocess.Popen(  # noqa: S603
        ["/bin/sh", "-c", command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    children: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert shell.poll() is None, "the recipe exited"
                assert time.monotonic() < deadline, "the server did not answer in 90 s"
                time.sleep(0.2)
        assert status == 200
        children = [(pid, command_line(pid)) for pid in served_children(shell.pid)]
        assert any(" worker" in cmd for _, cmd in children), children
        assert any(" serve" in cmd or "granian" in cmd for _, cmd in children), children
        # The worker enqueues the periodic jobs at start and runs them.
        database = tmp_path / "ketaclinic.sqlite3"
        done = 0
        while time.monotonic() < deadline and not done:
            with sqlite3.connect(database, timeout=10) as db:
                done = db.execute(
                    "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                    "WHERE status = 'SUCCESSFUL'"
                ).fetchone()[0]
            time.sleep(0.5)
        assert done >= 1, "the worker ran no job"
    finally:
        # Ctrl-C in the terminal: SIGINT to the whole foreground process group. The worker,
        # started with & by a non-interactive shell, ignores it: the recipe's trap stops it.
        os.killpg(shell.pid, signal.SIGINT)
        shell.wait(timeout=60)
    stopped = time.monotonic() + 30
    while any(alive(pid) for pid, _ in children) and time.monotonic() < stopped:
        time.sleep(0.2)
    assert not any(alive(pid) for pid, _ in children), "a process outlived make run"
