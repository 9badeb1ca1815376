"""A real `ketaclinic serve` for tests and drills: a database prepared through the console
script (migrate, the personas, infusing sessions with chairs, a nurse's API token), the server
as its own process group of processes, and a small HTTP client on the loopback address.

Used by the database-restart test (web/tests) and the fault drill (tests/test_fault_drill.py).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("ketaclinic")
HOST = "127.0.0.1"
# ketaclinic.testing imports models, so Django is set up before it is imported.
_INFUSING = (
    "import sys, django; django.setup(); "
    "from ketaclinic.testing.infusing import main; main(int(sys.argv[1]), int(sys.argv[2]))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux: /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" once it is gone)."""
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode()
    except OSError:
        return ""


def clinic_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env.update(
        {
            "KETACLINIC_DATABASE_URL": database_url,
            "KETACLINIC_VAR_DIR": str(var_dir),
            "KETACLINIC_SECRET_KEY": "served-test-only-not-secret",
            "KETACLINIC_SECURE_COOKIES": "0",
            "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
        }
    )
    return env


def run_command(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run `ketaclinic ARGS`; its stdout, or an AssertionError with its stderr."""
    done = subprocess.run(  # noqa: S603  our own console script
        [str(SCRIPT), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"ketaclinic {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def prepare(env: dict[str, str], sessions: int, vials: int = 0) -> dict[str, object]:
    """Migrate, then the personas, `sessions` infusing sessions and `vials` vials of
    ketamine: {"token", "sessions"[, "containers"]}."""
    run_command(env, "migrate", "--noinput")
    done = subprocess.run(  # noqa: S603  our own interpreter and module
        [sys.executable, "-c", _INFUSING, str(sessions), str(vials)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    made: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return made


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: object | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> Answer:
    """One request on a new connection (raises OSError when nothing answers)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    except http.client.HTTPException as error:
        raise OSError(str(error)) from error
    finally:
        conn.close()


@dataclass
class Server:
    """`ketaclinic serve` on a free port; start, SIGKILL and start again."""

    env: dict[str, str]
    workers: int = 2
    threads: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, timeout: float = 60) -> None:
        log = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        argv = [
            str(SCRIPT), "serve", "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers), "--threads", str(self.threads),
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603  our own console script
            argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        answered = 0
        while answered < self.workers * 2:  # a few answers: the workers have loaded the app
            if self.process.poll() is not None:
                raise AssertionError(f"ketaclinic serve exited with {self.process.returncode}")
            try:
                request(self.port, "GET", "/account/login/", timeout=5)
                answered += 1
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("ketaclinic serve did not answer") from None
                time.sleep(0.1)

    def start_when_port_free(self, timeout: float = 120) -> None:
        """Start, waiting while the killed server's workers still hold the port (`serve`
        refuses a taken port: web/serving.py)."""
        from ketaclinic.web.serving import port_refusal

        deadline = time.monotonic() + timeout
        while port_refusal(HOST, self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.start(timeout=max(5.0, deadline - time.monotonic()))

    def kill(self) -> None:
        """SIGKILL the server's main process (its workers end with it: web/serving.py)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def vitals_body(n: int) -> dict[str, object]:
    """A plausible vitals reading; every tenth crosses the protocol's heart-rate threshold."""
    from datetime import UTC, datetime

    return {
        "at": datetime.now(UTC).isoformat(),
        "systolic": 118 + n % 7,
        "diastolic": 76 + n % 5,
        "heart_rate": 115 if n % 10 == 0 else 70 + n % 9,
        "spo2": 97,
        "resp_rate": 14,
        "moaas": 5,
    }
