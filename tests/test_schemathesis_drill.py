"""The schemathesis drill (issue 18): the whole OpenAPI document fuzzed through the WSGI app,
as Dr Ada (clinician), Nurse Ben and the patient Pat, valid and invalid requests alike.

Every generated request is sent with each of the three tokens. The drill fails on any server
error (5xx), on any status code the document does not list for the operation, and on any
error answer that is not an RFC 9457 problem (application/problem+json); it prints the
figures (requests, answers by status, failures) and the load average.

Each operation is fuzzed three ways: valid requests (positive), invalid ones (negative), and
valid ones whose path ids name rows that exist (Pat, a booked session, its course, a vial and
its location), so that they reach past the 404. Bounded: ``KETACLINIC_FUZZ_EXAMPLES``
(default 5) examples per operation and way, about 2,800 requests in all, a few minutes on a
2-core machine. Derandomized, so that CI sees the same requests each run; set
``KETACLINIC_FUZZ_SEED`` to explore others. Marker ``fuzz``: CI runs it once, on SQLite
(.ci/run says why).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings

from ketaclinic.infusions.tests.chart_driver import chart_for, ledger_container
from ketaclinic.testing import Clinic

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("KETACLINIC_FUZZ_EXAMPLES", "5"))
SEED = os.environ.get("KETACLINIC_FUZZ_SEED")
ROLES = ("ada", "ben", "pat")


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI app inside the test's transaction: as Django's test client does, the
    connection is not closed at the end of each request (that would end the transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def known_ids(clinic: Clinic) -> dict[str, str]:
    """Ids of rows that exist, so that a third of the requests reach past the 404: Pat, a
    booked session of hers on the IV protocol (prescriber on site), its course, and a vial
    in the ledger's safe with its location."""
    chart = chart_for(clinic)
    vial = ledger_container(clinic)
    return {
        "patient_id": str(clinic.pat.pk),
        "session_id": str(chart.session.pk),
        "course_id": str(chart.session.course_id),
        "container_id": str(vial.pk),
        "location_id": str(vial.location_id),
    }


def _hypothesis_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are collected
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Tally:
    tokens: dict[str, dict[str, str]]
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)
    not_problems: list[str] = field(default_factory=list)

    def fuzz(self, operation: Any, way: str, strategy: Any) -> None:
        """Send each generated request with every token and tally the answers."""
        documented = {str(code) for code in operation.definition.raw.get("responses", {})}
        label = f"{operation.method.upper()} {operation.path} ({way})"

        @_hypothesis_settings()
        @given(case=strategy)
        def run(case: Any) -> None:
            for who, headers in self.tokens.items():
                response = case.call(headers=headers)
                status = int(response.status_code)
                self.statuses[status] += 1
                content_type = response.headers.get("content-type") or [""]  # lowercase names
                media_type = content_type[0].split(";")[0].strip()
                if status >= 400 and media_type != "application/problem+json":
                    self.not_problems.append(f"{label} as {who}: {status} {media_type}")
                if status >= 500:
                    self.server_errors.append(f"{label} as {who}: {status}")
                elif str(status) not in documented and "default" not in documented:
                    self.undocumented.append(f"{label} as {who}: {status}")

        if SEED is not None:
            run = seed(int(SEED))(run)
        run()


def test_the_whole_api_answers_no_5xx_and_only_documented_codes(
    clinic: Clinic, wsgi_app: WSGIHandler
) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    tally = Tally({role: {"Authorization": f"Bearer {clinic.token(role)}"} for role in ROLES})
    ids = known_ids(clinic)
    positive = schemathesis.GenerationMode.POSITIVE
    negative = schemathesis.GenerationMode.NEGATIVE
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        tally.fuzz(operation, "positive", operation.as_strategy(generation_mode=positive))
        tally.fuzz(operation, "negative", operation.as_strategy(generation_mode=negative))
        names = {p.name for p in operation.path_parameters}
        if names and names <= set(ids):
            known = {name: ids[name] for name in names}
            strategy = operation.as_strategy(generation_mode=positive, path_parameters=known)
            tally.fuzz(operation, "known ids", strategy)

    requests = sum(tally.statuses.values())
    failures = tally.server_errors + tally.undocumented + tally.not_problems
    print(
        f"\nschemathesis drill: {operations} operations, {requests} requests in "
        f"{time.monotonic() - started:.0f} s, {len(tally.server_errors)} server errors, "
        f"{len(tally.undocumented)} undocumented status codes, {len(tally.not_problems)} "
        f"errors not problem+json; by status "
        f"{dict(sorted(tally.statuses.items()))}; load average {os.getloadavg()}"
    )
    for line in failures[:40]:
        print("  ", line)
    assert operations > 70
    assert requests >= operations * 3
    assert tally.server_errors == []
    assert tally.undocumented == []
    assert tally.not_problems == []
