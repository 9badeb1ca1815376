"""The kick-off's details: POST with a Parameters body, ``patient`` (POST, Patient and Group
level), ``_elements`` (subset, tagged SUBSETTED) and ``includeAssociatedData``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from ketaclinic.fhir.bulk.elements import SUBSETTED, elements_subset
from ketaclinic.fhir.bulk.models import BulkExport
from ketaclinic.fhir.bulk.services import cohort_define
from ketaclinic.fhir.bulk.tests.client import BulkClient
from ketaclinic.fhir.tests.helpers import issues
from ketaclinic.fhir.tests.test_interop_clients import _every_type
from ketaclinic.testing import Clinic, make_clinic

HEADERS = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
FHIR = "application/fhir+json"


def _parameters(*pairs: tuple[str, str]) -> str:
    items = []
    for name, value in pairs:
        key = "valueReference" if name == "patient" else "valueString"
        items.append({"name": name, key: {"reference": value} if name == "patient" else value})
    return json.dumps({"resourceType": "Parameters", "parameter": items})


def _post(http: Client, path: str, *pairs: tuple[str, str], **headers: str) -> Any:
    return http.post(
        f"/fhir/R4/{path}",
        _parameters(*pairs),
        content_type=FHIR,
        headers=HEADERS | headers,
    )


def _run_jobs() -> None:
    call_command("worker", "--batch", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_client_posts_parameters_for_one_patient_with_elements(
    live_server: LiveServer, settings: Any, tmp_path: Path
) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    settings.FHIR_BULK_RETRY_AFTER = 1
    clinic = make_clinic()
    _every_type(clinic)
    client = BulkClient(
        f"{live_server.url}/fhir/R4",
        clinic.token("dana"),
        between_polls=_run_jobs,
    )
    status_url = client.kick_off_post(
        "Patient/$export",
        [
            {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
            {"name": "_type", "valueString": "Patient,Observation,Encounter"},
            {"name": "patient", "valueReference": {"reference": f"Patient/{clinic.pat.pk}"}},
            {"name": "_elements", "valueString": "Observation.valueQuantity,Encounter.period"},
            {"name": "includeAssociatedData", "valueCode": "LatestProvenanceResources"},
        ],
    )
    manifest = client.wait(status_url)
    parsed = client.download(manifest)  # every line parsed by fhir.resources
    by_type: dict[str, list[Any]] = {}
    for resource in parsed["output"]:
        by_type.setdefault(resource.__resource_type__, []).append(resource)
    assert set(by_type) == {"Patient", "Observation", "Encounter", "Provenance"}
    assert [str(p.id) for p in by_type["Patient"]] == [str(clinic.pat.pk)]  # Quinn left out
    for observation in by_type["Observation"]:
        assert observation.subject is None and observation.category is None  # not asked for
        assert observation.status and observation.code  # required: kept
        assert [t.code for t in observation.meta.tag] == ["SUBSETTED"]
    assert any(o.valueQuantity is not None for o in by_type["Observation"])
    assert all(e.period is not None and e.subject is None for e in by_type["Encounter"])
    assert all(p.meta.tag is None for p in by_type["Patient"])  # whole, not subsetted
    targets = {t.reference.split("/")[0] for p in by_type["Provenance"] for t in p.target}
    assert "Encounter" in targets
    assert json.loads(BulkExport.objects.get().patient_ids_json) == [str(clinic.pat.pk)]


@pytest.mark.django_db
def test_patient_must_be_known_and_a_member(clinic: Clinic, settings: Any, tmp_path: Path) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    dana = clinic.api("dana")
    unknown = "Patient/00000000-0000-0000-0000-000000000000"
    answer = _post(dana, "Patient/$export", ("patient", unknown))
    assert answer.status_code == 400
    assert unknown in issues(answer)[0]["diagnostics"]
    cohort = cohort_define(
        acting_user=clinic.users["dana"], name="Pat", patient_ids=[clinic.pat.pk]
    )
    quinn = f"Patient/{clinic.quinn.pk}"
    answer = _post(dana, f"Group/{cohort.pk}/$export", ("patient", quinn))
    assert answer.status_code == 400 and "members of the group" in issues(answer)[0]["diagnostics"]
    mine = _post(dana, f"Group/{cohort.pk}/$export", ("patient", f"Patient/{clinic.pat.pk}"))
    assert mine.status_code == 202, mine.content
    # not at system level, and not in a GET's query
    assert _post(dana, "$export", ("patient", quinn)).status_code == 400
    query = dana.get("/fhir/R4/Patient/$export", {"patient": quinn}, headers=HEADERS)
    assert query.status_code == 400
    assert BulkExport.objects.count() == 1


@pytest.mark.django_db
def test_post_takes_the_same_parameters_and_refuses_what_it_does_not_support(
    clinic: Clinic, settings: Any, tmp_path: Path
) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    dana = clinic.api("dana")
    answer = _post(dana, "$export", ("_type", "Patient"), ("_since", "2026-01-01T00:00:00Z"))
    assert answer.status_code == 202, answer.content
    export = BulkExport.objects.get()
    assert json.loads(export.types_json) == ["Patient"] and export.since is not None
    custom = ("includeAssociatedData", "_ourOwnExtras")
    refused = _post(dana, "$export", custom)
    assert refused.status_code == 400
    assert "includeAssociatedData" in issues(refused)[0]["diagnostics"]
    lenient = _post(
        dana, "$export", ("_type", "Patient"), custom, Prefer="respond-async, handling=lenient"
    )
    assert lenient.status_code == 202
    assert _post(dana, "$export", ("_elements", "Observation.no-such")).status_code == 400
    bad = dana.post(
        "/fhir/R4/$export",
        json.dumps({"resourceType": "Patient"}),
        content_type=FHIR,
        headers=HEADERS,
    )
    assert bad.status_code == 400


def test_elements_subset_keeps_what_is_asked_and_required() -> None:
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "meta": {"versionId": "v"},
        "status": "final",
        "code": {"text": "GAD-7"},
        "subject": {"reference": "Patient/p"},
        "valueQuantity": {"value": 12},
        "effectiveDateTime": "2026-01-05T09:30:00Z",
    }
    subset = elements_subset("Observation", {"*": ["value[x]"]})
    assert subset is not None
    out = json.loads(subset(json.dumps(observation)))
    assert set(out) == {"resourceType", "id", "meta", "status", "code", "valueQuantity"}
    assert out["meta"]["tag"] == [SUBSETTED] and out["meta"]["versionId"] == "v"
    assert elements_subset("Observation", {"Patient": ["gender"]}) is None
