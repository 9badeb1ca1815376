"""A PostgreSQL restart costs no request that arrives after the database is back; while it is
down, pages and the API answer 503 with Retry-After (issue 18, item 13).

A real `ketaclinic serve` (2 workers x 2 threads, so several kept connections) against a
PostgreSQL cluster of the test's own, which it stops and starts (never the shared server).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketaclinic.testing.pgcluster import PrivateCluster, postgresql_bin, private_cluster
from ketaclinic.testing.served import Server, clinic_env, prepare, request, vitals_body

pytestmark = [
    pytest.mark.drill,
    pytest.mark.skipif(postgresql_bin() is None, reason="PostgreSQL is not installed"),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with private_cluster() as started:
        yield started


def _burst(port: int, token: str, sessions: list[str], per_thread: int) -> list[int]:
    """Vitals posts from one thread per session at once; the status of each."""
    statuses: list[int] = []
    lock = threading.Lock()

    def post(index: int) -> None:
        path = f"/api/v1/sessions/{sessions[index]}/vitals"
        for n in range(per_thread):
            try:
                answer = request(
                    port,
                    "POST",
                    path,
                    body=vitals_body(n),
                    headers={"Authorization": f"Bearer {token}"},
                )
                status = answer.status
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_requests_after_a_database_restart_do_not_fail(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    env = clinic_env(cluster.createdb("restart"), tmp_path)
    made = prepare(env, 4)
    token, sessions = str(made["token"]), [str(s) for s in made["sessions"]]  # type: ignore[attr-defined]
    server = Server(env, workers=2, threads=2)
    server.start()
    try:
        # Every worker thread now holds a connection of its own.
        assert set(_burst(server.port, token, sessions, 8)) == {201}
        cluster.stop("fast")
        cluster.start()
        # Each kept connection was cut by the restart; before, each failed one request (500).
        after = _burst(server.port, token, sessions, 8)
        assert [s for s in after if s != 201] == []

        cluster.stop("fast")
        api = request(
            server.port,
            "POST",
            f"/api/v1/sessions/{sessions[0]}/vitals",
            body=vitals_body(1),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status == 503
        assert api.headers["retry-after"].isdigit()
        assert api.headers["content-type"].startswith("application/")
        assert "json" in api.headers["content-type"]
        page = request(server.port, "GET", "/healthz")
        assert page.status == 503
        assert page.headers["retry-after"].isdigit()
        assert b"not available right now" in page.body
        assert page.headers["cache-control"] == "no-store"

        cluster.start()
        assert set(_burst(server.port, token, sessions, 4)) == {201}
    finally:
        server.stop()
        if not cluster.running():
            cluster.start()
