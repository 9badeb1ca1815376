"""The fault drill (issue 18): a load of writes with idempotency keys (vitals posts and ledger
draws of ketamine) while the app server is killed with SIGKILL and restarted and its
PostgreSQL is restarted; the client retries each write with the same key and body until it is
acknowledged. Afterwards every acknowledged
write is stored exactly once, nothing is stored twice, `audit verify` and `ledger verify`
pass, and no patient name reached the server's log. Prints its figures (requests, errors,
acknowledged writes, lost, duplicates, recovery seconds per fault).

A real `ketaclinic serve` (2 workers) against a PostgreSQL cluster of the drill's own (initdb
under /tmp, its own port; never the shared server). Bounded: about a minute of load and a
fixed list of four faults; the whole test takes about two minutes on a quiet 2-core machine,
four to five at load 10 (server starts are slow there).
Scale with KETACLINIC_DRILL_CLIENTS (default 4) and KETACLINIC_DRILL_SECONDS (default 30: the
load between faults, shared out before each fault and after the last; the faults and the
recoveries add their own time, each bounded by GIVE_UP_AFTER).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from ketaclinic.testing.pgcluster import PrivateCluster, postgresql_bin, private_cluster
from ketaclinic.testing.served import (
    Server,
    clinic_env,
    prepare,
    request,
    run_command,
    vitals_body,
)

pytestmark = [
    pytest.mark.drill,
    pytest.mark.skipif(postgresql_bin() is None, reason="PostgreSQL is not installed"),
]

CLIENTS = max(1, min(16, int(os.environ.get("KETACLINIC_DRILL_CLIENTS", "4"))))
DRAW_CLIENTS = max(1, CLIENTS // 2)  # ledger draws, each from a vial of its own
DRAW_ML = "0.1"
SECONDS = max(20.0, min(120.0, float(os.environ.get("KETACLINIC_DRILL_SECONDS", "30"))))
RETRY_PAUSE = 0.2
# A server start (the migration check, then each worker loading Django) takes 5-10 s on an
# idle 2-core machine and 20-60 s at load 10; a write is retried for this long.
GIVE_UP_AFTER = 150.0  # a write not acknowledged within this long is abandoned (and reported)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    errors: int = 0  # answers other than 200/201, and connections that failed
    statuses: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> the stored row's id
    kinds: dict[str, str] = field(default_factory=dict)  # key -> "vitals" or "draw"
    abandoned: list[str] = field(default_factory=list)
    last_ack: float = 0.0

    def count(self, outcome: str, ok: bool) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            if not ok:
                self.errors += 1


@dataclass(frozen=True)
class Writer:
    """One client's writes: where it posts and what (the same body for every retry)."""

    kind: str  # "vitals" or "draw"
    index: int
    path: str
    session: str

    def body(self, n: int) -> dict[str, object]:
        if self.kind == "vitals":
            return vitals_body(n)
        return {"session": self.session, "volume_ml": DRAW_ML}


def _client(writer: Writer, port: int, token: str, tally: Tally, stop: threading.Event) -> None:
    path = writer.path
    n = 0
    while not stop.is_set():
        n += 1
        key = f"drill-{writer.kind}-{writer.index}-{n}"
        body = writer.body(n)
        first = time.monotonic()
        while True:
            try:
                answer = request(
                    port,
                    "POST",
                    path,
                    body=body,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                    timeout=10,
                )
                outcome, ok = str(answer.status), answer.status in (200, 201)
            except OSError:
                outcome, ok = "no answer", False
            tally.count(outcome, ok)
            if ok:
                reading = answer.json()
                assert isinstance(reading, dict)
                with tally.lock:
                    tally.acknowledged[key] = int(reading["id"])
                    tally.kinds[key] = writer.kind
                    tally.last_ack = time.monotonic()
                break
            if time.monotonic() - first > GIVE_UP_AFTER:
                with tally.lock:
                    tally.abandoned.append(key)
                break
            time.sleep(RETRY_PAUSE)


def _recovery(tally: Tally, since: float, limit: float = GIVE_UP_AFTER) -> float:
    """Seconds from `since` until a write is acknowledged after it."""
    deadline = since + limit
    while time.monotonic() < deadline:
        with tally.lock:
            if tally.last_ack > since:
                return tally.last_ack - since
        time.sleep(0.05)
    return float("inf")


def _faults(server: Server, cluster: PrivateCluster) -> list[tuple[str, Callable[[], None]]]:
    def kill_app() -> None:
        server.kill()
        server.start_when_port_free()

    def restart_db_fast() -> None:
        cluster.stop("fast")
        time.sleep(1.0)
        cluster.start()

    def crash_db() -> None:
        cluster.stop("immediate")
        time.sleep(1.0)
        cluster.start()

    def both() -> None:
        server.kill()
        cluster.stop("immediate")
        cluster.start()
        server.start_when_port_free()

    return [
        ("SIGKILL app server, restart", kill_app),
        ("PostgreSQL restart (fast)", restart_db_fast),
        ("PostgreSQL crash (immediate stop), restart", crash_db),
        ("SIGKILL app server and PostgreSQL crash together", both),
    ]


def test_acknowledged_writes_survive_kills_and_database_restarts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with private_cluster() as cluster:
        url = cluster.createdb("drill")
        env = clinic_env(url, tmp_path)
        made = prepare(env, CLIENTS, vials=DRAW_CLIENTS)
        token = str(made["token"])
        sessions = [str(s) for s in made["sessions"]]  # type: ignore[attr-defined]
        vials = [int(c) for c in made["containers"]]  # type: ignore[attr-defined]
        writers = [
            Writer("vitals", i, f"/api/v1/sessions/{sessions[i]}/vitals", sessions[i])
            for i in range(CLIENTS)
        ] + [
            Writer("draw", i, f"/api/v1/ledger/containers/{vials[i]}/draws", sessions[i])
            for i in range(DRAW_CLIENTS)
        ]
        log = tmp_path / "server.log"
        server = Server(env, workers=2, threads=1, log=log)
        server.start()
        tally = Tally()
        stop = threading.Event()
        clients = [
            threading.Thread(target=_client, args=(writer, server.port, token, tally, stop))
            for writer in writers
        ]
        recoveries: list[tuple[str, float]] = []
        faults = _faults(server, cluster)
        # Load between the faults: the drill's seconds shared out, after each recovery.
        settle = SECONDS / (len(faults) + 1)
        try:
            for thread in clients:
                thread.start()
            for name, fault in faults:
                time.sleep(settle)
                fault_at = time.monotonic()
                fault()
                recoveries.append((name, _recovery(tally, fault_at)))
            time.sleep(settle)
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=GIVE_UP_AFTER + 30)
            server.stop()
            if not cluster.running():
                cluster.start()

        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT idempotency_key, count(*), min(id) FROM infusions_vitalsreading "
                "WHERE idempotency_key LIKE 'drill-%' GROUP BY idempotency_key"
            ).fetchall()
            draw_rows = conn.execute(
                "SELECT id FROM ledger_ledgerentry WHERE kind = 'draw' AND container_id = ANY(%s)",
                (vials,),
            ).fetchall()
        acked_vitals = {k: v for k, v in tally.acknowledged.items() if tally.kinds[k] == "vitals"}
        acked_draws = {v for k, v in tally.acknowledged.items() if tally.kinds[k] == "draw"}
        stored = {key: (count, first) for key, count, first in rows}
        stored_draws = {row[0] for row in draw_rows}
        lost = [key for key in acked_vitals if key not in stored]
        duplicated = [key for key, (count, _first) in stored.items() if count > 1]
        mismatched = [
            key
            for key, reading in acked_vitals.items()
            if key in stored and stored[key][1] != reading
        ]
        lost_draws = sorted(acked_draws - stored_draws)
        phantom_draws = sorted(stored_draws - acked_draws)  # stored, never acknowledged
        audit = run_command(env, "audit", "verify")
        ledger = run_command(env, "ledger", "verify")
        server_log = log.read_text(errors="replace") if log.exists() else ""

        with capsys.disabled():
            print(
                f"\nfault drill: {CLIENTS} clients, {SECONDS:g} s, load average "
                f"{os.getloadavg()[0]:.1f}\n"
                f"  requests {tally.requests}, errors {tally.errors} "
                f"({', '.join(f'{k}: {v}' for k, v in sorted(tally.statuses.items()))})\n"
                f"  vitals: acknowledged {len(acked_vitals)}, stored {len(stored)}, "
                f"lost {len(lost)}, stored twice {len(duplicated)}\n"
                f"  ledger draws: acknowledged {len(acked_draws)}, stored {len(stored_draws)}, "
                f"lost {len(lost_draws)}, phantom {len(phantom_draws)}\n"
                f"  abandoned {len(tally.abandoned)}\n"
                + "".join(f"  recovery after {name}: {sec:.1f} s\n" for name, sec in recoveries)
                + f"  {audit.strip()}; {ledger.strip().splitlines()[-1] if ledger else ''}"
            )

        assert acked_vitals
        assert acked_draws
        assert lost == []
        assert lost_draws == []
        assert phantom_draws == []
        assert duplicated == []
        assert mismatched == []
        assert tally.abandoned == []
        # nothing stored that the client did not send and see acknowledged
        assert set(stored) <= set(acked_vitals)
        assert all(sec < GIVE_UP_AFTER for _name, sec in recoveries), recoveries
        assert "audit chain intact" in audit
        assert "ledger intact" in ledger
        for name in ("Example", "Sample"):  # the patients' family names never reach the log
            assert name not in server_log
