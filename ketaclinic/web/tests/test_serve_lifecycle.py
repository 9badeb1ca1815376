"""`ketaclinic serve` as real processes: its workers end with it, even after SIGKILL of the
server, and it refuses a port that is taken (issue 18, item 11)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketaclinic.testing.served import alive, children, free_port

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(sys.executable).with_name("ketaclinic")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc (Linux)")


def _healthy(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite clinic of its own (the server runs in other processes)."""
    var = tmp_path_factory.mktemp("serve-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update({"KETACLINIC_VAR_DIR": str(var), "KETACLINIC_SECURE_COOKIES": "0"})
    done = subprocess.run(  # noqa: S603  our own console script
        [str(SCRIPT), "migrate", "--noinput"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return env


def _serve(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603  our own console script
        [str(SCRIPT), "serve", "--bind", f"127.0.0.1:{port}", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(check: object, seconds: float) -> bool:
    assert callable(check)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


@pytest.fixture
def running(serve_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    server = _serve(serve_env, port, "--workers", "2")
    workers: list[int] = []
    try:
        assert _wait_until(lambda: _healthy(port) or server.poll() is not None, 60)
        assert server.poll() is None, server.communicate()[1]
        assert _wait_until(lambda: len(children(server.pid)) >= 2, 30)
        workers = children(server.pid)
        yield server, port
    finally:
        for pid in [server.pid, *workers]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)  # only the processes this test started
        server.wait(timeout=30)


def test_workers_end_when_the_server_is_killed(
    running: tuple[subprocess.Popen[str], int],
) -> None:
    server, port = running
    workers = children(server.pid)
    assert len(workers) == 2
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    # Orphaned workers kept serving for over 5 minutes before (issue 18, item 11).
    assert _wait_until(lambda: not any(alive(pid) for pid in workers), 20), [
        pid for pid in workers if alive(pid)
    ]
    assert not _healthy(port)


def test_a_second_server_on_a_taken_port_refuses_to_start(
    running: tuple[subprocess.Popen[str], int], serve_env: dict[str, str]
) -> None:
    _server, port = running
    second = _serve(serve_env, port, "--workers", "1")
    try:
        _out, err = second.communicate(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    assert second.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in err
    # The first one goes on serving. One probe may land on a worker still loading the app on a
    # busy machine (CI failed once on a single 2-second probe), so it gets a while to answer.
    assert _wait_until(lambda: _healthy(port), 30)


def test_a_port_held_by_another_program_is_refused(serve_env: dict[str, str]) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = int(other.getsockname()[1])
        server = _serve(serve_env, port)
        try:
            _out, err = server.communicate(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert server.returncode != 0
    assert "already in use" in err


def test_serve_defaults_to_one_worker_per_core_and_one_thread() -> None:
    from ketaclinic.web.management.commands.serve import DEFAULT_THREADS, default_workers

    assert DEFAULT_THREADS == 1
    assert default_workers() == len(os.sched_getaffinity(0))
