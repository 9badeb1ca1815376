"""Bulk Data export by a SMART Backend Services program: a real signed assertion, a token,
the kick-off limited to what the scopes allow (types, a ``?category=`` constraint, the patient
tie), the job applying the grant kept with the export, and polls and downloads answered only
to the same program."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.operationoutcome import OperationOutcome

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.bulk import services
from ketaclinic.fhir.bulk.models import BulkExport
from ketaclinic.fhir.bulk.services import cohort_define
from ketaclinic.fhir.smart.models import SmartClient
from ketaclinic.fhir.smart.tests.keys import (
    access_token,
    assertion,
    program,
    register,
    token_request,
)
from ketaclinic.fhir.tests.helpers import post, response_body
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture(autouse=True)
def _bulk_dir(settings: Any, tmp_path: Any) -> None:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    settings.FHIR_BULK_CHUNK = 3


def _record(clinic: Clinic) -> None:
    """GAD-7s for Pat and Quinn (responses and score Observations) and Pat's vital signs."""
    from ketaclinic.infusions.tests.chart_driver import chart_for

    ben = clinic.api("ben")
    for patient in (clinic.pat, clinic.quinn):
        answer = post(ben, "QuestionnaireResponse", response_body("gad7", patient.pk, [1] * 7))
        assert answer.status_code == 201, answer.content
    chart = chart_for(clinic)
    chart.check_in()
    assert chart.vitals().status_code in (200, 201)


def _forbidden(answer: Any) -> list[str]:
    assert answer.status_code == 403, answer.content
    outcome = OperationOutcome.model_validate_json(answer.content)
    return [str(i.diagnostics) for i in outcome.issue]


def _export(http: Client, path: str = "$export", **params: str) -> dict[str, Any]:
    """Kick off, run the job, poll once: the manifest."""
    answer = http.get(f"/fhir/R4/{path}", params, headers=ASYNC)
    assert answer.status_code == 202, answer.content
    export = BulkExport.objects.order_by("-created_at").first()
    assert export is not None
    services.bulk_export_run(export_id=str(export.pk), attempt=export.attempt)
    status = http.get(answer["Content-Location"])
    assert status.status_code == 200, status.content
    manifest: dict[str, Any] = status.json()
    return manifest


def _lines(http: Client, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every exported resource, each line validated with fhir.resources' model of its type."""
    found = []
    for item in manifest["output"]:
        answer = http.get(item["url"])
        assert answer.status_code == 200, item["url"]
        content = b"".join(answer.streaming_content)  # type: ignore[attr-defined]  # a FileResponse
        for line in content.decode().splitlines():
            resource = json.loads(line)
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            found.append(resource)
    return found


def test_a_system_program_exports_only_the_types_its_scopes_cover(clinic: Clinic) -> None:
    _record(clinic)
    http = program(access_token(clinic, "system/Observation.rs system/Patient.rs"))
    manifest = _export(http)  # no _type: the types within the token's scopes
    assert {item["type"] for item in manifest["output"]} == {"Observation", "Patient"}
    resources = _lines(http, manifest)
    assert {r["resourceType"] for r in resources} == {"Observation", "Patient"}
    assert {r["id"] for r in resources if r["resourceType"] == "Patient"} == {
        str(clinic.pat.pk),
        str(clinic.quinn.pk),
    }
    export = BulkExport.objects.get()
    assert export.grant_scope == "system/Observation.rs system/Patient.rs"
    account = SmartClient.objects.get().account
    downloads = AuditEvent.objects.filter(object_type="BulkExportFile")
    assert downloads.count() == len(manifest["output"])
    assert set(downloads.values_list("actor_id", flat=True)) == {account.pk}


def test_a_named_type_outside_the_scopes_is_refused(clinic: Clinic) -> None:
    http = program(access_token(clinic, "system/Observation.rs"))
    refused = _forbidden(
        http.get("/fhir/R4/$export", {"_type": "Observation,Encounter"}, headers=ASYNC)
    )
    assert "Encounter" in refused[0]
    # a Group export needs Group read
    cohort = cohort_define(
        acting_user=clinic.users["dana"], name="Pat", patient_ids=[clinic.pat.pk]
    )
    _forbidden(http.get(f"/fhir/R4/Group/{cohort.pk}/$export", headers=ASYNC))
    # a token that may only write searches nothing
    writer = program(access_token(clinic, "system/Observation.c"))
    _forbidden(writer.get("/fhir/R4/$export", {"_type": "Observation"}, headers=ASYNC))
    assert not BulkExport.objects.exists()


def test_a_category_constraint_is_applied_to_every_exported_row(clinic: Clinic) -> None:
    _record(clinic)
    scope = f"system/Observation.rs?category={CATEGORY}|vital-signs"
    http = program(access_token(clinic, scope))
    manifest = _export(http, _type="Observation")
    observations = _lines(http, manifest)
    assert len(observations) == 4  # one reading of four vital signs; no GAD-7 score
    assert {o["category"][0]["coding"][0]["code"] for o in observations} == {"vital-signs"}
    # the same export by a person holds the scores too
    dana = clinic.api("dana")
    everything = _lines(dana, _export(dana, _type="Observation"))
    assert len(everything) == 6


def test_a_one_patient_program_exports_its_patient_only(clinic: Clinic) -> None:
    _record(clinic)
    http = program(access_token(clinic, "patient/*.rs", patient=clinic.quinn))
    resources = _lines(http, _export(http, "Patient/$export"))
    patients = {r["id"] for r in resources if r["resourceType"] == "Patient"}
    assert patients == {str(clinic.quinn.pk)}
    subjects = {
        (r.get("subject") or r.get("patient") or {}).get("reference")
        for r in resources
        if r["resourceType"] in ("Observation", "QuestionnaireResponse")
    }
    assert subjects == {f"Patient/{clinic.quinn.pk}"}


def test_polls_and_downloads_are_for_the_same_program_only(clinic: Clinic) -> None:
    _record(clinic)
    scopes = "system/Patient.rs"
    client, key = register(clinic, scopes)

    def fresh_token() -> Client:
        answer = token_request(Client(), assertion(client, key), scopes)
        assert answer.status_code == 200, answer.content
        return program(answer.json()["access_token"])

    http = fresh_token()
    answer = http.get("/fhir/R4/$export", headers=ASYNC)
    assert answer.status_code == 202
    status_url = answer["Content-Location"]
    export = BulkExport.objects.get()
    services.bulk_export_run(export_id=str(export.pk), attempt=1)
    manifest = http.get(status_url).json()
    file_url = manifest["output"][0]["url"]
    # another program (same scopes), a person who may export: 404 as for an unknown export
    other = program(access_token(clinic, scopes))
    assert other.get(status_url).status_code == 404
    assert other.get(file_url).status_code == 404
    assert clinic.api("dana").get(file_url).status_code == 404
    # the same program with a new token (tokens live five minutes; exports may take longer)
    again = fresh_token()
    assert again.get(file_url).status_code == 200
    assert again.delete(status_url).status_code == 202  # and it may cancel its own


def test_an_export_of_a_deactivated_program_fails_cleanly(clinic: Clinic) -> None:
    _record(clinic)
    http = program(access_token(clinic, "system/Patient.rs"))
    assert http.get("/fhir/R4/$export", headers=ASYNC).status_code == 202
    export = BulkExport.objects.get()
    SmartClient.objects.filter(account=export.requested_by).update(active=False)
    services.bulk_export_run(export_id=str(export.pk), attempt=1)
    export.refresh_from_db()
    assert export.status == "failed" and "ProgramGone" in export.error
    assert not export.files.exists()
