"""The thin baseline: a minimal WSGI app that inserts the same vitals row with psycopg and
nothing else (no auth, no validation, no alert rules, no audit). Served by granian like the app.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

_local = threading.local()

INSERT = (
    "INSERT INTO bench_vitals (session_id, at, phase, systolic_mmhg, diastolic_mmhg, "
    "heart_rate_bpm, spo2_percent, respiratory_rate, moaas, idempotency_key, recorded_by_id, "
    "recorded_at) VALUES (%s, %s, 'infusing', %s, %s, %s, %s, %s, %s, %s, 1, now()) RETURNING id"
)


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BENCH_BASELINE_DSN"], autocommit=False)
        _local.conn = conn
    return conn


def application(
    environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    session_id = environ["PATH_INFO"].split("/")[4]
    conn = _connection()
    with conn.cursor() as cur:
        cur.execute(
            INSERT,
            (
                session_id,
                body["at"],
                body["systolic"],
                body["diastolic"],
                body["heart_rate"],
                body["spo2"],
                body["resp_rate"],
                body.get("moaas"),
                environ.get("HTTP_IDEMPOTENCY_KEY", ""),
            ),
        )
        row = cur.fetchone()
    conn.commit()
    payload = json.dumps({"id": row[0] if row else None}).encode()
    start_response(
        "201 Created",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]
