"""Real processes: the listener killed (SIGKILL) mid-stream and restarted, and PostgreSQL
restarted mid-stream, while monitors keep sending (resending as GE monitors do): every reading
the listener acknowledged (AA) is stored exactly once, and the audit chain is intact.

The drill runs its OWN PostgreSQL cluster under /tmp (initdb, its own port), never a shared
server. Marked `drill`: CI runs it in its PostgreSQL pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from ketaclinic.monitors.feed import samples
from ketaclinic.monitors.feed.client import MonitorLink

pytestmark = pytest.mark.drill

PGBIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/drill"

    def run(self, *args: str) -> None:
        command = " ".join(args)
        if os.geteuid() == 0:
            subprocess.run(  # noqa: S603  fixed PostgreSQL tool paths in our temp dir
                ["/usr/bin/su", "postgres", "-s", "/bin/sh", "-c", command], check=True
            )
        else:
            subprocess.run(["/bin/sh", "-c", command], check=True)  # noqa: S603  as above

    def pg_ctl(self, action: str) -> None:
        self.run(
            f"{PGBIN}/pg_ctl",
            f"-D {self.data}",
            f"-l {self.data}/server.log",
            f"-o '-k {self.data} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off'",
            "-m fast -w -t 60",
            action,
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PGBIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 binaries are not installed (/usr/lib/postgresql/15/bin)")
    data = Path(tempfile.mkdtemp(prefix="ketaclinic-monitor-drill-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    found = Cluster(data=data, port=_free_port())
    found.run(f"{PGBIN}/initdb", f"-D {data}", "-A trust -U postgres", ">/dev/null")
    found.pg_ctl("start")
    try:
        found.run(f"{PGBIN}/createdb", f"-h 127.0.0.1 -p {found.port} -U postgres drill")
        yield found
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            found.pg_ctl("stop")
        shutil.rmtree(data, ignore_errors=True)


def _env(cluster: Cluster) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KETACLINIC_DATABASE_URL=cluster.url,
        KETACLINIC_SECRET_KEY="drill-only-not-secret",
        DJANGO_SETTINGS_MODULE="ketaclinic.settings",
    )
    return env


class ListenerProcess:
    def __init__(self, cluster: Cluster, port: int) -> None:
        self.cluster, self.port = cluster, port
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  our own console script
            [
                sys.executable,
                "-m",
                "ketaclinic",
                "monitors",
                "listen",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--hold",
                "3",
                "--batch",
                "50",
            ],
            env=_env(self.cluster),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert "listening on" in line, line

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _monitor(
    port: int, number: int, stop: asyncio.Event, acked: dict[str, str], tries: list[int]
) -> None:
    link = MonitorLink("127.0.0.1", port, timeout=5.0)
    sent = 0
    try:
        while not stop.is_set():
            now = datetime.now().astimezone().replace(microsecond=0)
            control = f"D{number}-{sent:05d}"
            text = samples.render(
                samples.SAMPLES["ge"], now=now, nibp=now, control=control, hr=70 + sent % 10
            )
            result = await link.send(text.encode(), control, retries=6)
            acked[control] = result.ack_code
            tries.append(result.tries)
            sent += 1
            await asyncio.sleep(0.05)
    finally:
        await link.close()


def test_every_acknowledged_reading_is_stored_exactly_once(cluster: Cluster) -> None:
    setup = subprocess.run(
        [sys.executable, "-m", "ketaclinic.monitors.tests.drill_setup"],
        env=_env(cluster),
        capture_output=True,
        text=True,
        check=True,
        timeout=150,
    )
    fields = dict(part.split("=", 1) for part in setup.stdout.split())
    listener = ListenerProcess(cluster, _free_port())
    listener.start()
    acked: dict[str, str] = {}
    tries: list[int] = []

    async def drill() -> None:
        stop = asyncio.Event()
        monitors = [
            asyncio.create_task(_monitor(listener.port, n, stop, acked, tries)) for n in range(4)
        ]
        await asyncio.sleep(2.0)
        listener.kill()  # mid-stream: frames in flight, a batch perhaps committed, not ACKed
        await asyncio.sleep(0.5)
        listener.start()
        await asyncio.sleep(2.0)
        await asyncio.to_thread(cluster.pg_ctl, "restart")  # the database goes away and back
        await asyncio.sleep(3.0)
        stop.set()
        await asyncio.gather(*monitors)

    try:
        asyncio.run(drill())
    finally:
        listener.stop()

    import psycopg

    with psycopg.connect(cluster.url) as db:
        rows = db.execute(
            "SELECT idempotency_key, count(*) FROM infusions_vitalsreading "
            "WHERE session_id = %s GROUP BY idempotency_key",
            [fields["session"]],
        ).fetchall()
    stored = {key: count for key, count in rows}
    prefix = f"mon:{fields['device']}:"
    ok = [c for c, code in acked.items() if code == "AA"]
    assert len(ok) > 50, acked  # the monitors got through, before and after both outages
    assert max(tries) > 1  # the kill cut connections: messages were resent
    missing = [c for c in ok if stored.get(prefix + c) != 1]
    assert missing == []
    assert all(count == 1 for count in stored.values())
    # Nothing charted that was not sent.
    assert {k.removeprefix(prefix) for k in stored} <= set(acked)
    verify = subprocess.run(
        [sys.executable, "-m", "ketaclinic", "audit", "verify"],
        env=_env(cluster),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
