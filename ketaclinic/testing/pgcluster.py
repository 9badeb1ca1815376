"""A private PostgreSQL cluster for tests and drills that stop or restart the database.

initdb into a temporary directory, its own port on 127.0.0.1, started and stopped by pg_ctl
(as the postgres user when we run as root: initdb refuses root, as in `.ci/run`). Never the
shared server: a drill that restarts PostgreSQL must own the server it restarts.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def postgresql_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian's layout), if any."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions and (versions[-1] / "initdb").exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command]
    else:
        argv = ["/bin/sh", "-c", command]
    # The command is built here from paths and numbers of our own, never from input.
    return subprocess.run(argv, check=check, capture_output=True, text=True)  # noqa: S603


@dataclass
class PrivateCluster:
    pgbin: Path
    data: Path
    port: int

    def url(self, database: str = "ketaclinic") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def _ctl(self, args: str, *, check: bool = True) -> None:
        _as_postgres(f"{self.pgbin}/pg_ctl -D {shlex.quote(str(self.data))} {args}", check=check)

    def start(self) -> None:
        log = self.data / "server.log"
        options = (
            f"-k {self.data} -p {self.port} -c listen_addresses={HOST} -c fsync=off "
            "-c max_connections=60"
        )
        self._ctl(f"-l {shlex.quote(str(log))} -o {shlex.quote(options)} -w start >/dev/null")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `immediate` is a crash (no checkpoint, clients cut off)."""
        self._ctl(f"-m {mode} -w stop >/dev/null", check=False)

    def createdb(self, name: str) -> str:
        _as_postgres(f"{self.pgbin}/createdb -h {HOST} -p {self.port} -U postgres {name}")
        return self.url(name)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Start a cluster of our own; stop it and remove its files afterwards."""
    pgbin = postgresql_bin()
    if pgbin is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    data = Path(tempfile.mkdtemp(prefix="kc-private-pg."))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    cluster = PrivateCluster(pgbin=pgbin, data=data, port=free_port())
    _as_postgres(f"{pgbin}/initdb -D {shlex.quote(str(data))} -A trust -U postgres >/dev/null")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)
