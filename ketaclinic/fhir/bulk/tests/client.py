"""A Bulk Data client as the IG describes one (and as smart-fetch / cumulus-etl behave:
../shared/domain/interop.md, section 5): kick off, poll honouring Retry-After with back-off,
download every file with the same token, parse every NDJSON line with fhir.resources."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from fhir.resources.R4B import get_fhir_model_class


@dataclass
class BulkClient:
    base: str
    token: str
    between_polls: Callable[[], None] = lambda: None  # e.g. run the worker once
    polls: list[int] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def kick_off(self, path: str, params: dict[str, str] | None = None) -> str:
        answer = requests.get(
            f"{self.base}/{path}",
            params=params,
            headers=self.headers(Accept="application/fhir+json", Prefer="respond-async"),
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return answer.headers["Content-Location"]

    def kick_off_post(self, path: str, parameters: list[dict[str, Any]]) -> str:
        """A POST kick-off with a Parameters body (IG v2: the same parameters as a GET)."""
        answer = requests.post(
            f"{self.base}/{path}",
            data=json.dumps({"resourceType": "Parameters", "parameter": parameters}),
            headers=self.headers(
                Accept="application/fhir+json",
                Prefer="respond-async",
                **{"Content-Type": "application/fhir+json"},
            ),
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        return answer.headers["Content-Location"]

    def wait(self, status_url: str, limit: float = 120) -> dict[str, Any]:
        """Poll until done, waiting what Retry-After says (or backing off) between polls."""
        started = time.monotonic()
        delay = 0.5
        while time.monotonic() - started < limit:
            self.between_polls()
            answer = requests.get(status_url, headers=self.headers(), timeout=30)
            self.polls.append(answer.status_code)
            if answer.status_code == 200:
                manifest: dict[str, Any] = answer.json()
                return manifest
            assert answer.status_code in (202, 429), answer.text
            if answer.status_code == 202:
                assert 0 < len(answer.headers["X-Progress"]) < 100
            retry = answer.headers.get("Retry-After")
            delay = float(retry) if retry is not None else min(delay * 2, 10)
            self.waits.append(delay)
            time.sleep(delay)
        raise AssertionError("the export did not finish in time")

    def download(self, manifest: dict[str, Any]) -> dict[str, list[Any]]:
        """Every file of every part, each line parsed by fhir.resources' R4B model of its type."""
        parsed: dict[str, list[Any]] = {}
        for part in ("output", "deleted", "error"):
            for item in manifest[part]:
                answer = requests.get(
                    item["url"], headers=self.headers(Accept="application/fhir+ndjson"), timeout=60
                )
                assert answer.status_code == 200, answer.text
                assert answer.headers["Content-Type"] == "application/fhir+ndjson"
                lines = answer.text.splitlines()
                if "count" in item:
                    assert len(lines) == item["count"]
                for line in lines:
                    resource_type = json.loads(line)["resourceType"]
                    assert resource_type == item["type"]
                    model = get_fhir_model_class(resource_type)
                    parsed.setdefault(part, []).append(model.model_validate_json(line))
        return parsed
