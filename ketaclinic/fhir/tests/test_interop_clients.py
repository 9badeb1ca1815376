"""Real FHIR clients against the live test server: fhirpy (beda-software/fhir-py, sync
client: paging through Bundle.link next, ``count()``, ``get()``, ``refresh()`` with
If-None-Match) and fhirclient (smart-on-fhir/client-py: its strict R4 models parse the
CapabilityStatement and every resource type we serve). ../shared/domain/interop.md, section 5,
lists what each client needs from a server."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from fhirclient import client as smart_client
from fhirclient.models import bundle as fc_bundle
from fhirclient.models.fhirelementfactory import FHIRElementFactory
from fhirpy import SyncFHIRClient
from pytest_django.live_server_helper import LiveServer

from ketaclinic.fhir.registry import TYPES
from ketaclinic.testing import Clinic, make_clinic, make_patient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(transactional_db: Any, live_server: LiveServer) -> tuple[Clinic, str]:
    """The personas, committed (the live server's thread sees them), and the FHIR base."""
    return make_clinic(), f"{live_server.url}/fhir/R4"


def _fhirpy(clinic: Clinic, base: str, who: str = "ada") -> SyncFHIRClient:
    return SyncFHIRClient(base, authorization=f"Bearer {clinic.token(who)}")


def test_fhirpy_pages_through_a_search_while_patients_are_added(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    before = {str(clinic.pat.pk), str(clinic.quinn.pk)}
    before |= {str(make_patient(given_name=f"Page{i}", email="").pk) for i in range(9)}
    fhir = _fhirpy(clinic, base)
    added: list[str] = []
    seen: list[str] = []
    for resource in fhir.resources("Patient").limit(3).sort("-_lastUpdated"):
        seen.append(str(resource["id"]))
        if len(seen) % 3 == 1:  # the client holds a page and more patients arrive
            added.append(str(make_patient(given_name="Late", email="").pk))
    assert len(seen) == len(set(seen)), "fhirpy was given an entry twice"
    assert set(seen) == before, "an entry was skipped or a later one leaked in"
    assert added and not set(added) & set(seen)
    assert fhir.resources("Patient").count() == len(before) + len(added)


def test_fhirpy_count_get_and_refresh(live: tuple[Clinic, str]) -> None:
    clinic, base = live
    fhir = _fhirpy(clinic, base)
    flags = fhir.resources("Flag").search(patient=str(clinic.pat.pk))
    assert flags.count() == 0  # count() sends _count=0&_totalMethod=count: ignored, named
    one = fhir.resources("Patient").search(_id=str(clinic.pat.pk)).get()
    assert one["birthDate"] == "1988-04-02"
    assert one["identifier"][0]["value"] == clinic.pat.mrn
    read = fhir.reference("Patient", str(clinic.pat.pk)).to_resource()
    version = read["meta"]["versionId"]
    read.refresh()  # If-None-Match with the bare versionId: 304, the resource kept
    assert read["meta"]["versionId"] == version
    mine = _fhirpy(clinic, base, "pat")
    assert [str(p["id"]) for p in mine.resources("Patient").fetch_all()] == [str(clinic.pat.pk)]


def test_paging_with_inserts_from_another_thread(live: tuple[Clinic, str]) -> None:
    """Inserts racing the client from another thread: every patient there before the search
    began is shown exactly once. A racing row whose insert time precedes the first page but
    whose transaction committed after it may show up on a later page (the snapshot bound is
    the insert time): never twice, and never in place of another."""
    clinic, base = live
    before = {str(make_patient(given_name=f"Race{i}", email="").pk) for i in range(12)}
    before |= {str(clinic.pat.pk), str(clinic.quinn.pk)}
    stop = threading.Event()
    racers: list[str] = []

    def insert() -> None:
        from django.db import connection

        try:
            while not stop.is_set():
                racers.append(str(make_patient(given_name="Racer", email="").pk))
        finally:
            connection.close()

    inserter = threading.Thread(target=insert)
    inserter.start()
    try:
        seen = [str(r["id"]) for r in _fhirpy(clinic, base).resources("Patient").limit(2)]
    finally:
        stop.set()
        inserter.join()
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert set(seen) - before <= set(racers)
    assert racers


def _every_type(clinic: Clinic) -> None:
    """One of each resource type we serve: a signed session (Encounter, vital signs,
    MedicationAdministration, Consent, chair, staff) and a scored GAD-7 with a safety flag."""
    from datetime import date

    from ketaclinic.consent.models import ConsentDocument
    from ketaclinic.consent.services import consent_document_digest
    from ketaclinic.fhir.tests.helpers import post, response_body
    from ketaclinic.infusions.tests.chart_driver import chart_for
    from ketaclinic.patients.models import SafetyFlag

    if not ConsentDocument.objects.exists():  # a transactional test flushed the shipped ones
        code, title = "treatment", "Ketamine treatment consent"
        body, since = "Synthetic consent text for the interop test.", date(2026, 1, 1)
        ConsentDocument.objects.create(
            code=code,
            version=1,
            title=title,
            body=body,
            effective_from=since,
            required=True,
            digest=consent_document_digest(
                code=code, version=1, title=title, body=body, effective_from=since
            ),
        )
    chart = chart_for(clinic)
    chart.signed()
    answered = post(
        clinic.api("ben"), "QuestionnaireResponse", response_body("gad7", clinic.pat.pk, [3] * 7)
    )
    assert answered.status_code == 201, answered.content
    SafetyFlag.objects.create(patient=clinic.pat, code="interop", title="Interop check")
    # An evaluation: a Condition (F41.1) and an AllergyIntolerance; the signed session above
    # gives the MedicationRequest and the Medication (its ledger container).
    from ketaclinic.eligibility.tests.eligibility_helpers import (
        evaluation_make,
        shipped_rows_ensure,
    )

    shipped_rows_ensure()
    evaluation_make(clinic)
    from ketaclinic.fhir.bulk.services import cohort_define  # a Group (bulk export cohort)

    cohort_define(acting_user=clinic.users["dana"], name="Interop", patient_ids=[clinic.pat.pk])
    from ketaclinic.careplan.samples import plan_signed  # a CarePlan (issue 15)

    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)


def test_fhirclient_strictly_parses_the_capability_statement_and_every_type(
    live: tuple[Clinic, str],
) -> None:
    clinic, base = live
    _every_type(clinic)
    token = clinic.token("ada")
    smart = smart_client.FHIRClient(settings={"app_id": "ketaclinic-tests", "api_base": base})
    smart.server.session.headers["Authorization"] = f"Bearer {token}"
    smart.prepare()  # GET /metadata, parsed with the strict CapabilityStatement model
    statement = smart.server.capabilityStatement
    served = {r.type for r in statement.rest[0].resource}
    assert {*TYPES, "Questionnaire", "Organization"} <= served
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    admin = requests.Session()  # the audit trail is the administrator's (AuditEvent)
    admin.headers["Authorization"] = f"Bearer {clinic.token('dana')}"
    for name in (*TYPES, "Questionnaire", "Organization"):
        patient_params = TYPES[name].patient_params if name in TYPES else ()
        query = f"patient={clinic.pat.pk}&_count=200" if patient_params else "_count=200"
        # The audit trail is the administrator's alone; Groups are for those who may export.
        client = admin if name in ("AuditEvent", "Group") else session
        response = client.get(f"{base}/{name}?{query}", timeout=30)
        assert response.status_code == 200, (name, response.text)
        bundle = fc_bundle.Bundle(response.json(), strict=True)
        matches = [e.resource for e in bundle.entry or [] if e.search.mode == "match"]
        assert matches, f"no {name} to parse"
        assert all(r.resource_type == name for r in matches)
        for resource in matches:
            read = client.get(f"{base}/{name}/{resource.id}", timeout=30)
            assert read.status_code == 200, (name, read.text)
            parsed = FHIRElementFactory.instantiate(name, read.json())
            assert parsed.id == resource.id
            assert read.headers["ETag"] == f'W/"{parsed.meta.versionId}"'
    vitals = session.get(
        f"{base}/Observation?patient={clinic.pat.pk}&category=vital-signs&_count=1", timeout=30
    ).json()
    assert vitals["total"] >= 4
    # The DocumentReference's content as a FHIR Binary, and a history Bundle, strictly parsed.
    document = FHIRElementFactory.instantiate(
        "DocumentReference",
        session.get(f"{base}/DocumentReference?patient={clinic.pat.pk}", timeout=30).json()[
            "entry"
        ][0]["resource"],
    )
    binary = session.get(
        f"{base}/{document.content[0].attachment.url}",
        headers={"Accept": "application/fhir+json"},
        timeout=30,
    )
    assert binary.status_code == 200, binary.text
    assert FHIRElementFactory.instantiate("Binary", binary.json()).contentType == "application/pdf"
    history = session.get(f"{base}/Patient/{clinic.pat.pk}/_history", timeout=30)
    assert fc_bundle.Bundle(history.json(), strict=True).type == "history"


def test_anonymous_clients_get_401(live: tuple[Clinic, str]) -> None:
    _, base = live
    assert requests.get(f"{base}/Patient", timeout=30).status_code == 401
    assert Client().get("/fhir/R4/Encounter").status_code == 401


def test_fhirpy_follows_include_and_pages_through_everything(live: tuple[Clinic, str]) -> None:
    """fhirpy's ``include()`` / ``revinclude()`` send _include / _revinclude; the included
    resources come back in the Bundle (search.mode include). ``$everything`` pages by
    Bundle.link next, which fhirpy follows in ``fetch_all`` of a raw operation search."""
    clinic, base = live
    _every_type(clinic)
    fhir = _fhirpy(clinic, base, "pat")
    encounters = (
        fhir.resources("Encounter")
        .search(patient=str(clinic.pat.pk))
        .include("Encounter", "patient")
        .revinclude("Provenance", "target")
    )
    raw = encounters.fetch_raw()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in raw["entry"]}
    assert modes >= {("Encounter", "match"), ("Patient", "include"), ("Provenance", "include")}
    # fetch() keeps only the matches
    assert {r["resourceType"] for r in encounters.fetch()} == {"Encounter"}
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {clinic.token('pat')}"
    whole = session.get(f"{base}/Patient/{clinic.pat.pk}/$everything?_count=200", timeout=30)
    every = [
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in whole.json()["entry"]
    ]
    seen: list[str] = []
    pages = 0
    url: str | None = f"{base}/Patient/{clinic.pat.pk}/$everything?_count=4"
    while url is not None:
        bundle = fc_bundle.Bundle(session.get(url, timeout=30).json(), strict=True)
        seen += [f"{e.resource.resource_type}/{e.resource.id}" for e in bundle.entry or []]
        url = next((link.url for link in bundle.link if link.relation == "next"), None)
        pages += 1
    assert seen == every and len(set(seen)) == len(seen)
    assert pages >= len(every) // 4
    # fhirpy pages only type searches by itself (it keeps the entries of the searched type),
    # so $everything is paged through its ``execute``: the next link, relative to the base.
    pages_seen: list[str] = []
    path, params = f"Patient/{clinic.pat.pk}/$everything", {"_count": "4"}
    while True:
        page = fhir.execute(path, method="get", params=params)
        assert page["total"] == len(every)
        pages_seen += [
            f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in page["entry"]
        ]
        following = next((x["url"] for x in page["link"] if x["relation"] == "next"), None)
        if following is None:
            break
        parts = urlsplit(following)
        path = parts.path.removeprefix(urlsplit(base).path + "/")
        params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    assert pages_seen == every
