"""The thin FHIR search baseline (../shared/PERFORMANCE.md): plain WSGI + psycopg, one indexed
query for a patient's latest ``_count`` Observations (with the total, by a window count), the
stored JSON texts spliced into a searchset Bundle. No auth, no audit, no validation. Served by
granian like the app (``python -m bench fhir-search``)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import psycopg

_local = threading.local()

TABLE = """
CREATE TABLE IF NOT EXISTS bench_fhir_observation (
    id text PRIMARY KEY,
    patient uuid NOT NULL,
    effective timestamptz NOT NULL,
    json_text text NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_fhir_observation_patient ON bench_fhir_observation
    (patient, effective DESC);
"""
SEARCH = (
    "SELECT id, json_text, count(*) OVER () FROM bench_fhir_observation WHERE patient = %s "
    "ORDER BY effective DESC LIMIT %s"
)


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BENCH_BASELINE_DSN"], autocommit=True)
        _local.conn = conn
    return conn


def application(
    environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
) -> Iterable[bytes]:
    if not environ["PATH_INFO"].startswith("/fhir/R4/Observation"):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    patient = query["patient"][0].removeprefix("Patient/")
    count = int(query.get("_count", ["20"])[0])
    rows = _connection().execute(SEARCH, (patient, count)).fetchall()
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}/fhir/R4/Observation"
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": datetime.now(UTC).isoformat()},
        "type": "searchset",
        "total": rows[0][2] if rows else 0,
        "link": [{"relation": "self", "url": f"{base}?patient={patient}&_count={count}"}],
    }
    text = json.dumps(head, separators=(",", ":"))
    if rows:
        entries = ",".join(
            '{"fullUrl":' + json.dumps(f"{base}/{rid}") + ',"resource":' + body
            + ',"search":{"mode":"match"}}'
            for rid, body, _total in rows
        )  # fmt: skip
        text = text[:-1] + ',"entry":[' + entries + "]}"
    payload = text.encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/fhir+json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]
