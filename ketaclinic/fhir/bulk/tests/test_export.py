"""Bulk Data export end to end: a client against the live test server, the worker run
in-process between polls (``ketaclinic worker --batch``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.bulk.models import BulkExport, BulkExportFile, ExportStatus
from ketaclinic.fhir.bulk.services import cohort_define, cohort_delete
from ketaclinic.fhir.bulk.tests.client import BulkClient
from ketaclinic.fhir.tests.test_interop_clients import _every_type
from ketaclinic.testing import Clinic, make_clinic

pytestmark = pytest.mark.django_db(transaction=True)


def run_jobs() -> None:
    call_command("worker", "--batch", verbosity=0)


@pytest.fixture
def live(
    transactional_db: Any, live_server: LiveServer, settings: Any, tmp_path: Path
) -> tuple[Clinic, str]:
    settings.FHIR_BULK_DIR = tmp_path / "bulk"
    settings.FHIR_BULK_RETRY_AFTER = 1
    settings.FHIR_BULK_CHUNK = 3  # several chunks even with a small clinic
    settings.FHIR_BULK_FILE_LINES = 4  # and several files per type
    return make_clinic(), f"{live_server.url}/fhir/R4"


def _client(
    clinic: Clinic, base: str, who: str = "dana", jobs: Callable[[], None] = run_jobs
) -> BulkClient:
    return BulkClient(base, clinic.token(who), between_polls=jobs)


def test_a_client_kicks_off_polls_downloads_and_parses_every_line(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    _every_type(clinic)
    client = _client(clinic, base, jobs=lambda: None)
    status_url = client.kick_off("$export", {"_outputFormat": "application/fhir+ndjson"})
    # Polled at once, again: the second poll is too soon (429 with Retry-After).
    first = requests.get(status_url, headers=client.headers(), timeout=10)
    assert first.status_code == 202 and first.headers["Retry-After"] == "1"
    assert first.headers["X-Progress"] == "queued"
    again = requests.get(status_url, headers=client.headers(), timeout=10)
    assert again.status_code == 429 and again.headers["Retry-After"] == "1"
    assert again.json()["resourceType"] == "OperationOutcome"
    client.between_polls = run_jobs
    manifest = client.wait(status_url)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("$export?_outputFormat=application%2Ffhir%2Bndjson")
    assert manifest["transactionTime"] and manifest["error"] == [] and manifest["deleted"] == []
    parsed = client.download(manifest)
    exported = {r.__resource_type__ for r in parsed["output"]}
    assert {"Patient", "Observation", "QuestionnaireResponse", "Flag", "Encounter"} <= exported
    assert {"MedicationAdministration", "Consent", "Practitioner", "Location"} <= exported
    patients = [r for r in parsed["output"] if r.__resource_type__ == "Patient"]
    assert {str(p.id) for p in patients} == {str(clinic.pat.pk), str(clinic.quinn.pk)}
    assert sum(i["count"] for i in manifest["output"]) == len(parsed["output"])
    # Several files per type (4 lines each) and each line once.
    observations = [i for i in manifest["output"] if i["type"] == "Observation"]
    assert len(observations) >= 2
    keys = [(r.__resource_type__, r.id) for r in parsed["output"]]
    assert len(keys) == len(set(keys))
    # Downloads: the same token's user only; each download audited with the export's id.
    export = BulkExport.objects.get()
    url = manifest["output"][0]["url"]
    assert requests.get(url, timeout=10).status_code == 401
    other = BulkClient(base, clinic.token("ada"))
    assert requests.get(url, headers=other.headers(), timeout=10).status_code == 404
    downloads = AuditEvent.objects.filter(object_type="BulkExportFile")
    files = BulkExportFile.objects.filter(export=export)
    assert downloads.count() == files.count()
    assert {e.object_id for e in downloads} == {f"{export.pk}/{f.pk}" for f in files}
    patient_file = files.get(resource_type="Patient", name="Patient-1.ndjson")
    assert patient_file.patient_count == 2
    assert AuditEvent.objects.filter(object_type="BulkExport", action="E").count() == 1


def test_a_group_export_holds_only_its_members(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    _every_type(clinic)
    cohort = cohort_define(
        acting_user=clinic.users["dana"], name="Quinn only", patient_ids=[clinic.quinn.pk]
    )
    client = _client(clinic, base)
    # The Group itself: read and searched by those who may export, validated.
    group = requests.get(f"{base}/Group/{cohort.pk}", headers=client.headers(), timeout=10)
    assert group.status_code == 200
    assert group.json()["member"] == [{"entity": {"reference": f"Patient/{clinic.quinn.pk}"}}]
    nurse = BulkClient(base, clinic.token("ben"))
    assert (
        requests.get(f"{base}/Group/{cohort.pk}", headers=nurse.headers(), timeout=10).status_code
        == 404
    )
    manifest = client.wait(client.kick_off(f"Group/{cohort.pk}/$export"))
    parsed = client.download(manifest)
    patients = {str(r.id) for r in parsed["output"] if r.__resource_type__ == "Patient"}
    assert patients == {str(clinic.quinn.pk)}
    assert "Observation" not in {r.__resource_type__ for r in parsed["output"]}  # Pat's only
    assert "Practitioner" not in {r.__resource_type__ for r in parsed["output"]}


def test_type_and_type_filter_narrow_the_export(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    _every_type(clinic)
    client = _client(clinic, base)
    status_url = client.kick_off(
        "Patient/$export",
        {
            "_type": "Observation,Patient",
            "_typeFilter": "Observation?category=vital-signs&code=http://loinc.org|8867-4",
        },
    )
    parsed = client.download(client.wait(status_url))
    types = {r.__resource_type__ for r in parsed["output"]}
    assert types == {"Observation", "Patient"}
    observations = [r for r in parsed["output"] if r.__resource_type__ == "Observation"]
    assert observations and all(o.code.coding[0].code == "8867-4" for o in observations)


def test_since_exports_what_changed_and_lists_what_was_deleted(live: tuple[Clinic, str]) -> None:
    from django.utils import timezone

    clinic, base = live
    cohort = cohort_define(
        acting_user=clinic.users["dana"], name="Old list", patient_ids=[clinic.pat.pk]
    )
    since, cohort_id = timezone.now(), cohort.pk
    cohort_delete(acting_user=clinic.users["dana"], cohort=cohort)
    _every_type(clinic)  # after _since
    client = _client(clinic, base)
    parsed_manifest = client.wait(client.kick_off("$export", {"_since": since.isoformat()}))
    assert parsed_manifest["deleted"] and parsed_manifest["deleted"][0]["type"] == "Bundle"
    parsed = client.download(parsed_manifest)
    deleted = parsed["deleted"]
    assert [e.request.url for b in deleted for e in b.entry] == [f"Group/{cohort_id}"]
    assert all(e.request.method == "DELETE" for b in deleted for e in b.entry)
    types = {r.__resource_type__ for r in parsed["output"]}
    assert "Observation" in types and "Patient" not in types  # the patients did not change


def test_delete_cancels_and_removes_the_files(live: tuple[Clinic, str], settings: Any) -> None:
    clinic, base = live
    _every_type(clinic)
    client = _client(clinic, base)
    status_url = client.kick_off("$export")
    cancelled = requests.delete(status_url, headers=client.headers(), timeout=10)
    assert cancelled.status_code == 202
    run_jobs()  # the queued job finds it cancelled and writes nothing
    assert requests.get(status_url, headers=client.headers(), timeout=10).status_code == 404
    assert not (Path(settings.FHIR_BULK_DIR)).exists() or not any(
        Path(settings.FHIR_BULK_DIR).rglob("*.ndjson")
    )
    # A completed export: DELETE removes its files, and its links stop working.
    status_url = client.kick_off("$export")
    manifest = client.wait(status_url)
    assert any(Path(settings.FHIR_BULK_DIR).rglob("*.ndjson"))
    assert requests.delete(status_url, headers=client.headers(), timeout=10).status_code == 202
    assert not any(Path(settings.FHIR_BULK_DIR).rglob("*.ndjson"))
    assert (
        requests.get(manifest["output"][0]["url"], headers=client.headers(), timeout=10).status_code
        == 404
    )
    assert requests.delete(status_url, headers=client.headers(), timeout=10).status_code == 404


def test_files_expire_and_the_sweep_removes_them(live: tuple[Clinic, str], settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.fhir.bulk.services import bulk_export_sweep

    clinic, base = live
    _every_type(clinic)
    client = _client(clinic, base)
    status_url = client.kick_off("$export")
    manifest = client.wait(status_url)
    export = BulkExport.objects.get()
    assert export.expires_at is not None
    assert export.expires_at - export.completed_at == timedelta(days=1)  # type: ignore[operator]
    bulk_export_sweep(now=export.expires_at - timedelta(seconds=1))
    assert any(Path(settings.FHIR_BULK_DIR).rglob("*.ndjson"))
    bulk_export_sweep(now=export.expires_at)
    assert not any(Path(settings.FHIR_BULK_DIR).rglob("*.ndjson"))
    assert BulkExport.objects.get().status == ExportStatus.EXPIRED
    assert requests.get(status_url, headers=client.headers(), timeout=10).status_code == 404
    assert (
        requests.get(manifest["output"][0]["url"], headers=client.headers(), timeout=10).status_code
        == 404
    )
    # The status URL itself refuses an expired export even before the sweep ran.
    status_url = client.kick_off("$export")
    client.wait(status_url)
    BulkExport.objects.filter(status=ExportStatus.COMPLETED).update(expires_at=timezone.now())
    assert requests.get(status_url, headers=client.headers(), timeout=10).status_code == 404


def test_kick_off_refusals(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    admin = _client(clinic, base)

    def kick(
        path: str, who: BulkClient = admin, prefer: str = "respond-async", **params: str
    ) -> Any:
        return requests.get(
            f"{base}/{path}", params=params, headers=who.headers(Prefer=prefer), timeout=10
        )

    nurse = _client(clinic, base, "ben")
    assert kick("$export", nurse).status_code == 403
    assert kick("Patient/$export", _client(clinic, base, "pat")).status_code == 403
    assert kick("$export", prefer="").status_code == 400  # Prefer: respond-async is required
    assert kick("$export", _outputFormat="application/json").status_code == 400
    assert kick("$export", _type="Nonsense").status_code == 400
    assert kick("Patient/$export", _type="Practitioner").status_code == 400  # not in compartment
    assert kick("$export", _since="yesterday").status_code == 400
    assert kick("$export", _typeFilter="Observation?_count=5").status_code == 400
    assert kick("$export", _typeFilter="Observation?nonsense=1").status_code == 400
    # _elements is served now (test_kick_off_post.py); an includeAssociatedData value we do
    # not support is the parameter refused, unless the client asks for lenient handling.
    assert kick("$export", includeAssociatedData="_Nonsense").status_code == 400
    lenient = "respond-async, handling=lenient"
    assert kick("$export", prefer=lenient, includeAssociatedData="_Nonsense").status_code == 202
    assert kick("$export", _outputFormat="ndjson").status_code == 202
    assert kick("Group/4e1b6a55-0000-4000-8000-000000000000/$export").status_code == 404
    assert BulkExport.objects.count() == 2


def test_a_failed_job_is_reported_at_the_status_url(
    live: tuple[Clinic, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.fhir.bulk import services

    clinic, base = live
    _every_type(clinic)

    def broken(export: BulkExport) -> None:
        raise RuntimeError("synthetic failure with Pat's name in it")

    monkeypatch.setattr(services, "export_write", broken)
    client = _client(clinic, base)
    status_url = client.kick_off("$export")
    run_jobs()
    failed = requests.get(status_url, headers=client.headers(), timeout=10)
    assert failed.status_code == 500
    text = failed.json()["issue"][0]["diagnostics"]
    assert "RuntimeError" in text and "Pat" not in text


def test_a_resource_that_does_not_validate_goes_to_the_error_file(
    live: tuple[Clinic, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.fhir.resources import patient as patient_module
    from ketaclinic.fhir.resources.common import BuiltInvalid, validated

    clinic, base = live
    real = validated

    def refuse_quinn(model: Any, resource: dict[str, Any]) -> str:
        if resource["id"] == str(clinic.quinn.pk):
            raise BuiltInvalid("synthetic")
        return real(model, resource)

    monkeypatch.setattr(patient_module, "validated", refuse_quinn)
    client = _client(clinic, base)
    manifest = client.wait(client.kick_off("$export", {"_type": "Patient"}))
    parsed = client.download(manifest)
    assert [str(p.id) for p in parsed["output"]] == [str(clinic.pat.pk)]
    assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
    (outcome,) = parsed["error"]
    assert "did not validate" in outcome.issue[0].diagnostics
    # It names the row (our id, as in any FHIR URL), never the data that failed.
    assert str(clinic.quinn.pk) in outcome.issue[0].diagnostics
    assert clinic.quinn.family_name not in outcome.issue[0].diagnostics
