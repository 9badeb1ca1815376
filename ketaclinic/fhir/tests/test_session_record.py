"""The signed session record's PDF: stored at signing (and a new version at each addendum),
served from storage by the staff download, and as a DocumentReference with Binary (size and
SHA-1 of the stored bytes), searchable by patient, versioned, audited, validated."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import RecordDocument
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def _records(clinic: Clinic, who: str = "ada") -> list[dict[str, Any]]:
    found = clinic.api(who).get(
        f"/fhir/R4/DocumentReference?patient={clinic.pat.pk}&category=session-record"
    )
    assert found.status_code == 200, found.content
    return [e["resource"] for e in found.json().get("entry", []) if e["search"]["mode"] == "match"]


def _binary(clinic: Clinic, resource: dict[str, Any]) -> bytes:
    url = resource["content"][0]["attachment"]["url"]
    answer = clinic.api("ada").get(f"/fhir/R4/{url}")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/pdf"
    return bytes(answer.content)


@pytest.fixture
def signed(clinic: Clinic) -> Chart:
    chart = chart_for(clinic)
    chart.signed()
    return chart


def test_the_pdf_is_stored_at_signing_and_downloaded_from_storage(signed: Chart) -> None:
    clinic = signed.clinic
    stored = RecordDocument.objects.get(session=signed.session)
    assert stored.version == 1 and bytes(stored.pdf).startswith(b"%PDF")
    assert AuditEvent.objects.filter(object_type="RecordDocument", action="C").count() == 1
    url = f"/infusions/sessions/{signed.session.pk}/record.pdf"
    first = clinic.client("ada").get(url)
    again = clinic.client("ben").get(url)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content == bytes(stored.pdf)  # the same bytes every time


def test_the_record_is_a_document_reference_with_its_binary(signed: Chart) -> None:
    clinic = signed.clinic
    (resource,) = _records(clinic)
    DocumentReference.model_validate(resource)
    assert resource["id"] == f"sessionrecord-{signed.session.pk}"
    assert resource["docStatus"] == "final" and resource["meta"]["versionId"] == "1"
    assert resource["subject"]["reference"] == f"Patient/{clinic.pat.pk}"
    assert resource["context"]["encounter"][0]["reference"] == f"Encounter/{signed.session.pk}"
    attachment = resource["content"][0]["attachment"]
    data = _binary(clinic, resource)
    assert data == bytes(RecordDocument.objects.get().pdf)
    assert (attachment["size"], attachment["hash"]) == (len(data), _sha1(data))
    read = AuditEvent.objects.filter(object_type="Binary", object_id=f"{resource['id']}-v1")
    assert read.get().patient_id == clinic.pat.pk
    # read by id; Quinn's searches do not hold it; a patient sees their own only
    ada = clinic.api("ada")
    assert ada.get(f"/fhir/R4/DocumentReference/{resource['id']}").status_code == 200
    others = ada.get(f"/fhir/R4/DocumentReference?patient={clinic.quinn.pk}").json()
    assert all(e["resource"]["id"] != resource["id"] for e in others.get("entry", []))
    assert [r["id"] for r in _records(clinic, "pat")] == [resource["id"]]
    assert clinic.api("quinn").get(f"/fhir/R4/{attachment['url']}").status_code == 404


def test_an_addendum_adds_a_version_and_the_signed_one_is_kept(signed: Chart) -> None:
    clinic = signed.clinic
    (first,) = _records(clinic)
    signed_bytes = _binary(clinic, first)
    assert signed.post("/addenda", {"text": "Patient phoned: slept well."}).status_code == 201
    (current,) = _records(clinic)
    DocumentReference.model_validate(current)
    assert current["meta"]["versionId"] == "2" and current["docStatus"] == "amended"
    newer = _binary(clinic, current)
    assert newer != signed_bytes
    assert current["content"][0]["attachment"]["hash"] == _sha1(newer)
    download = clinic.client("ada").get(f"/infusions/sessions/{signed.session.pk}/record.pdf")
    assert download.content == newer  # staff print the record with its addenda
    history = clinic.api("ada").get(f"/fhir/R4/DocumentReference/{current['id']}/_history")
    versions = [e["resource"]["meta"]["versionId"] for e in history.json()["entry"]]
    assert versions == ["2", "1"]
    v1 = clinic.api("ada").get(f"/fhir/R4/DocumentReference/{current['id']}/_history/1").json()
    assert v1["content"][0]["attachment"]["hash"] == _sha1(signed_bytes)
    assert _binary(clinic, v1) == signed_bytes  # the record as signed, unchanged


def test_a_session_signed_before_pdfs_were_stored_gets_one_on_first_download(
    signed: Chart,
) -> None:
    clinic = signed.clinic
    RecordDocument.objects.all().delete()
    assert _records(clinic) == []  # nothing stored: not served (FHIR never renders)
    url = f"/infusions/sessions/{signed.session.pk}/record.pdf"
    first = clinic.client("ada").get(url)
    assert first.status_code == 200
    assert bytes(RecordDocument.objects.get().pdf) == first.content
    assert clinic.client("ada").get(url).content == first.content
    assert len(_records(clinic)) == 1


def test_a_pdf_that_cannot_be_drawn_never_stops_the_signature(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.infusions.models import SessionStatus
    from ketaclinic.infusions.services import record_document as stored_pdfs

    def broken(session: Any, *, at: Any) -> bytes:
        raise ValueError("a drawing fault")

    chart = chart_for(clinic)
    real = list(stored_pdfs._renderers)
    monkeypatch.setattr(stored_pdfs, "_renderers", [broken])
    chart.signed()
    assert chart.refresh().status == SessionStatus.SIGNED
    assert not RecordDocument.objects.exists()
    monkeypatch.setattr(stored_pdfs, "_renderers", real)
    download = clinic.client("ada").get(f"/infusions/sessions/{chart.session.pk}/record.pdf")
    assert download.status_code == 200
    assert bytes(RecordDocument.objects.get().pdf) == download.content
