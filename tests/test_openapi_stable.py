"""The JSON API's OpenAPI document is a published interface: moving code between modules and apps
(issue 11) must not change it. ``tests/data/openapi-v1.json`` is the document as served before the
layout change; a deliberate API change rewrites it with KETACLINIC_OPENAPI_WRITE=1 and says so in
its commit."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ketaclinic.testing import Clinic

PUBLISHED = Path(__file__).parent / "data" / "openapi-v1.json"


def test_the_openapi_document_is_unchanged(clinic: Clinic) -> None:
    response = clinic.client("ada").get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.content)
    if os.environ.get("KETACLINIC_OPENAPI_WRITE") == "1":
        PUBLISHED.write_text(json.dumps(served, indent=1, sort_keys=True) + "\n", "utf-8")
    published = json.loads(PUBLISHED.read_text("utf-8"))
    assert sorted(served["paths"]) == sorted(published["paths"])
    assert served == published
