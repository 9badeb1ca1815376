"""_include and _revinclude, Patient/{id}/$everything, _history and versioned reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.records import EVERYTHING
from ketaclinic.fhir.tests.helpers import issues, post, response_body
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str, status: int = 200, **headers: str) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    if status == 200:
        Bundle.model_validate_json(response.content)
    return body


def _mode(bundle: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def _charted(clinic: Clinic, *, signed: bool = True) -> Any:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    chart = chart_for(clinic)
    if signed:
        chart.signed()
    else:
        chart.check_in()
        assert chart.vitals().status_code in (200, 201)
    return chart.session


def test_observations_include_their_patient_and_encounter_once(clinic: Clinic) -> None:
    session = _charted(clinic, signed=False)
    ben = clinic.api("ben")
    before = AuditEvent.objects.count()
    bundle = _get(
        ben,
        f"/fhir/R4/Observation?patient={clinic.pat.pk}&category=vital-signs"
        "&_include=Observation:patient&_include=Observation:encounter",
    )
    matches, included = _mode(bundle, "match"), _mode(bundle, "include")
    assert len(matches) == 4 and bundle["total"] == 4  # included entries are not counted
    assert sorted(f"{r['resourceType']}/{r['id']}" for r in included) == sorted(
        [f"Patient/{clinic.pat.pk}", f"Encounter/{session.pk}"]
    )
    self_link = parse_qs(urlsplit(_link(bundle, "self") or "").query)
    assert self_link["_include"] == ["Observation:patient", "Observation:encounter"]
    audited = AuditEvent.objects.filter(seq__gt=before)
    assert audited.filter(object_type="Patient", object_id=str(clinic.pat.pk)).exists()
    assert audited.filter(object_type="Encounter", object_id=str(session.pk)).exists()


def test_an_encounter_search_revincludes_its_provenance_and_includes_its_patient(
    clinic: Clinic,
) -> None:
    session = _charted(clinic)
    pat = clinic.api("pat")
    bundle = _get(
        pat,
        f"/fhir/R4/Encounter?patient={clinic.pat.pk}"
        "&_revinclude=Provenance:target&_include=Encounter:patient",
    )
    included = {f"{r['resourceType']}/{r['id']}" for r in _mode(bundle, "include")}
    assert included == {f"Provenance/session-{session.pk}", f"Patient/{clinic.pat.pk}"}
    given = _get(
        pat,
        f"/fhir/R4/MedicationAdministration?patient={clinic.pat.pk}"
        "&_include=MedicationAdministration:context&_revinclude=Provenance:target",
    )
    kinds = sorted(r["resourceType"] for r in _mode(given, "include"))
    assert kinds == ["Encounter", "Provenance"]


def test_an_include_never_shows_what_the_user_may_not_read(clinic: Clinic) -> None:
    """Quinn's Flag search names only Quinn; an included Patient is always Quinn."""
    from ketaclinic.patients.models import SafetyFlag

    SafetyFlag.objects.create(patient=clinic.quinn, code="x", title="Quinn's flag")
    pat_flag = SafetyFlag.objects.create(patient=clinic.pat, code="y", title="Pat's flag")
    quinn = clinic.api("quinn")
    bundle = _get(quinn, f"/fhir/R4/Flag?patient={clinic.quinn.pk}&_include=Flag:patient")
    assert [r["id"] for r in _mode(bundle, "include")] == [str(clinic.quinn.pk)]
    assert (
        quinn.get(f"/fhir/R4/Flag?patient={clinic.pat.pk}&_include=Flag:patient").status_code == 404
    )
    # A page holding a reference to Pat, included for Quinn: Pat is not read, nor audited.
    from ketaclinic.fhir import include
    from ketaclinic.fhir.registry import TYPES
    from ketaclinic.fhir.search import engine

    pats_flag = engine.read(TYPES["Flag"], clinic.users["ada"], str(pat_flag.pk))
    pairs = include.Requested(forward=tuple(p for p in include.PAIRS if p.name == "Flag:patient"))
    before = AuditEvent.objects.count()
    assert include.included(clinic.users["quinn"], "Flag", [pats_flag], pairs).entries == []
    assert AuditEvent.objects.count() == before
    shown = include.included(clinic.users["ada"], "Flag", [pats_flag], pairs).entries
    assert [(kind, b.resource_id) for kind, b in shown] == [("Patient", str(clinic.pat.pk))]


def test_unsupported_includes_are_named_or_refused_under_strict(clinic: Clinic) -> None:
    ada = clinic.api("ada")
    url = f"/fhir/R4/Encounter?patient={clinic.pat.pk}&_include=Encounter:practitioner"
    lenient = _get(ada, url)
    [outcome] = _mode(lenient, "outcome")
    assert outcome["issue"][0]["expression"] == ["_include"]
    strict = ada.get(url, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert issues(strict)[0]["code"] == "not-supported"
    wrong_side = _get(ada, "/fhir/R4/Patient?_include=Observation:patient")
    assert _mode(wrong_side, "outcome")


def test_questionnaire_responses_include_their_patient(clinic: Clinic) -> None:
    answered = post(
        clinic.api("ben"), "QuestionnaireResponse", response_body("gad7", clinic.pat.pk, [1] * 7)
    )
    assert answered.status_code == 201
    bundle = _get(
        clinic.api("ada"),
        f"/fhir/R4/QuestionnaireResponse?patient={clinic.pat.pk}"
        "&_include=QuestionnaireResponse:patient",
    )
    assert [r["resourceType"] for r in _mode(bundle, "include")] == ["Patient"]
    patients = _get(
        clinic.api("ada"), f"/fhir/R4/Patient?_id={clinic.pat.pk}&_revinclude=Observation:patient"
    )
    assert [r["resourceType"] for r in _mode(patients, "include")] == ["Observation"]


# -- $everything ----------------------------------------------------------------------------------


def _walk(client: Client, url: str) -> tuple[list[str], list[dict[str, Any]]]:
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        bundle = _get(client, next_url)
        pages.append(bundle)
        seen += [f"{r['resourceType']}/{r['id']}" for r in _mode(bundle, "match")]
        next_url = _link(bundle, "next")
        assert len(pages) < 60
    return seen, pages


def test_everything_pages_through_the_whole_record_once_and_only_the_patients(
    clinic: Clinic,
) -> None:
    from ketaclinic.patients.models import SafetyFlag

    session = _charted(clinic)
    answered = post(
        clinic.api("ben"), "QuestionnaireResponse", response_body("gad7", clinic.pat.pk, [2] * 7)
    )
    assert answered.status_code == 201
    SafetyFlag.objects.create(patient=clinic.quinn, code="q", title="Not Pat's")
    pat = clinic.api("pat")
    one_page = _get(pat, f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_count=200")
    everything = [f"{r['resourceType']}/{r['id']}" for r in _mode(one_page, "match")]
    assert one_page["total"] == len(everything)
    kinds = {e.split("/")[0] for e in everything}
    assert {
        "Patient",
        "Encounter",
        "Observation",
        "QuestionnaireResponse",
        "MedicationAdministration",
        "Consent",
        "DocumentReference",
        "Provenance",
    } <= kinds
    assert f"Encounter/{session.pk}" in everything
    assert everything[0] == f"Patient/{clinic.pat.pk}"
    assert "AuditEvent" not in kinds
    for resource in _mode(one_page, "match"):
        patient = resource.get("subject", resource.get("patient", {})).get("reference")
        if patient is not None:
            assert patient == f"Patient/{clinic.pat.pk}"
    seen, pages = _walk(pat, f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_count=3")
    assert seen == everything  # same order, nothing twice, nothing skipped
    assert all(len(_mode(p, "match")) <= 3 for p in pages) and len(pages) >= len(everything) // 3
    only = _get(pat, f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_type=Encounter,Provenance")
    assert {r["resourceType"] for r in _mode(only, "match")} == {"Encounter", "Provenance"}
    later = _get(pat, f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_since=2999-01-01T00:00:00Z")
    assert _mode(later, "match") == [] and later["total"] == 0
    assert pat.get(f"/fhir/R4/Patient/{clinic.quinn.pk}/$everything").status_code == 404
    odd = _get(pat, f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_count=1&_elements=id")
    assert _mode(odd, "outcome")[0]["issue"][0]["expression"] == ["_elements"]
    strict = pat.get(
        f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_elements=id",
        headers={"Prefer": "handling=strict"},
    )
    assert strict.status_code == 400
    assert (
        pat.get(f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_type=AuditEvent").status_code == 400
    )
    assert (
        pat.get(f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_since=yesterday").status_code == 400
    )


def test_everything_pages_stay_stable_while_records_are_added(clinic: Clinic) -> None:
    from ketaclinic.patients.models import SafetyFlag

    for n in range(4):
        SafetyFlag.objects.create(patient=clinic.pat, code=f"f{n}", title=f"Flag {n}")
    ada = clinic.api("ada")
    url: str | None = f"/fhir/R4/Patient/{clinic.pat.pk}/$everything?_count=2"
    seen: list[str] = []
    added = 0
    while url is not None:
        bundle = _get(ada, url)
        seen += [f"{r['resourceType']}/{r['id']}" for r in _mode(bundle, "match")]
        SafetyFlag.objects.create(patient=clinic.pat, code=f"late{added}", title="Late")
        added += 1
        url = _link(bundle, "next")
    flags = [s for s in seen if s.startswith("Flag/")]
    assert len(flags) == 4 and len(seen) == len(set(seen))


def test_everything_walks_every_patient_type_of_the_registry() -> None:
    assert EVERYTHING[0] == ("Patient", "_id")
    names = [name for name, _ in EVERYTHING]
    assert "AuditEvent" not in names and "Provenance" in names and "DocumentReference" in names


# -- _history and versioned reads -----------------------------------------------------------------


def test_history_is_the_current_version_and_other_versions_are_404(clinic: Clinic) -> None:
    from fhir.resources.R4B.bundle import Bundle as FhirBundle

    ada = clinic.api("ada")
    read = ada.get(f"/fhir/R4/Patient/{clinic.pat.pk}")
    version = read.json()["meta"]["versionId"]
    history = ada.get(f"/fhir/R4/Patient/{clinic.pat.pk}/_history")
    assert history.status_code == 200
    bundle = FhirBundle.model_validate_json(history.content)
    assert bundle.type == "history" and bundle.total == 1
    entry = history.json()["entry"][0]
    assert entry["resource"]["meta"]["versionId"] == version
    assert entry["response"]["etag"] == f'W/"{version}"'
    versioned = ada.get(f"/fhir/R4/Patient/{clinic.pat.pk}/_history/{version}")
    assert versioned.status_code == 200 and versioned["ETag"] == f'W/"{version}"'
    gone = ada.get(f"/fhir/R4/Patient/{clinic.pat.pk}/_history/0000")
    assert gone.status_code == 404
    assert "only the current version" in issues(gone)[0]["diagnostics"]
    assert ada.get(f"/fhir/R4/Nothing/{clinic.pat.pk}/_history").status_code == 404
    quinn = clinic.api("quinn")
    assert quinn.get(f"/fhir/R4/Patient/{clinic.pat.pk}/_history").status_code == 404
    assert quinn.get(f"/fhir/R4/Patient/{clinic.pat.pk}/_history/{version}").status_code == 404


def test_a_consent_form_is_versioned_with_every_version_in_its_history(clinic: Clinic) -> None:
    from datetime import date

    from fhir.resources.R4B.bundle import Bundle as FhirBundle

    from ketaclinic.consent.models import ConsentDocument
    from ketaclinic.consent.services import consent_document_version_add

    first = ConsentDocument.objects.filter(active=True).order_by("code").first()
    assert first is not None, "the shipped consent documents are loaded by a migration"
    second = consent_document_version_add(
        acting_user=clinic.users["dana"],
        code=first.code,
        title=first.title,
        body=first.body + "\nA sentence added in the next version.",
        required=first.required,
        effective_from=date(2026, 6, 1),
    )
    pat = clinic.api("pat")
    form = f"consentform-{first.code.replace('_', '.')}"  # FHIR ids have no "_"
    url = f"/fhir/R4/DocumentReference/{form}"
    current = pat.get(url)
    assert current.status_code == 200
    assert current.json()["meta"]["versionId"] == str(second.version)
    assert current["ETag"] == f'W/"{second.version}"'
    history = pat.get(f"{url}/_history")
    bundle = FhirBundle.model_validate_json(history.content)
    assert bundle.type == "history" and (bundle.total or 0) >= 2
    versions = [e["resource"]["meta"]["versionId"] for e in history.json()["entry"]]
    assert versions[:2] == [str(second.version), str(first.version)]
    old = pat.get(f"{url}/_history/{first.version}")
    assert old.status_code == 200 and old["ETag"] == f'W/"{first.version}"'
    attachment = old.json()["content"][0]["attachment"]
    text = pat.get(f"/fhir/R4/{attachment['url']}")
    assert text.status_code == 200 and text["Content-Type"].startswith("text/plain")
    assert text.content == first.body.encode() and attachment["size"] == len(text.content)
    new_text = pat.get(f"/fhir/R4/Binary/{form}-v{second.version}").content
    assert new_text.endswith(b"A sentence added in the next version.")
    missing = pat.get(f"{url}/_history/999")
    assert missing.status_code == 404 and "versions kept" in issues(missing)[0]["diagnostics"]
    forms = _get(pat, "/fhir/R4/DocumentReference?category=consent-form")
    assert form in {r["id"] for r in _mode(forms, "match")}
    assert all(r["meta"]["versionId"].isdigit() for r in _mode(forms, "match"))
