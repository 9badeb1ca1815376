"""Condition and AllergyIntolerance (rows an eligibility evaluation records), Medication (ledger
containers) and MedicationRequest (a session's dose order): built from our rows, validated with
fhir.resources, searched through the shared search layer, audited, and a patient sees only
their own."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility import services as evaluation_services
from ketaclinic.eligibility.models import Allergy, Diagnosis, Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import (
    ELIGIBLE_EVALUATION,
    evaluation_make,
    shipped_rows_ensure,
)
from ketaclinic.fhir.tests.helpers import valid
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


@pytest.fixture(autouse=True)
def _shipped_rules(db: Any) -> None:
    shipped_rows_ensure()


def _search(client: Client, query: str) -> dict[str, Any]:
    response = client.get(f"/fhir/R4/{query}")
    assert response.status_code == 200, response.content
    Bundle.model_validate_json(response.content)
    body: dict[str, Any] = response.json()
    return body


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_an_evaluation_records_a_row_per_diagnosis_and_allergy(clinic: Clinic) -> None:
    data = ELIGIBLE_EVALUATION | {"diagnoses": ["F41.1", "F40.10"], "allergies": ["penicillin"]}
    evaluation = evaluation_make(clinic, data=data)
    gad, social = Diagnosis.objects.filter(evaluation=evaluation).order_by("position")
    assert (gad.icd10, gad.snomed, gad.display) == (
        "F41.1",
        "21897009",
        "Generalized anxiety disorder",
    )
    # GAD-7 17 at baseline is in the "severe" band of the scales' GAD-7 (Spitzer 2006).
    assert gad.severity == "severe" and "GAD-7 baseline 17" in gad.evidence
    assert (social.icd10, social.snomed, social.severity) == ("F40.10", "", "")
    assert gad.recorded_by == clinic.users["ada"] and gad.recorded_at == evaluation.created_at
    (allergy,) = Allergy.objects.filter(evaluation=evaluation)
    assert (allergy.substance, allergy.no_known) == ("penicillin", False)


def test_condition_is_served_coded_and_searchable(clinic: Clinic) -> None:
    evaluation_make(clinic)
    client = clinic.api("ada")
    bundle = _search(client, f"Condition?patient={clinic.pat.pk}")
    (condition,) = _matches(bundle)
    Condition.model_validate(condition)
    codings = {c["system"]: c["code"] for c in condition["code"]["coding"]}
    assert codings == {ICD10: "F41.1", SNOMED: "21897009"}
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert condition["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert condition["severity"]["coding"][0]["code"] == "24484000"  # severe
    assert condition["recorder"]["reference"] == f"Practitioner/staff-{clinic.users['ada'].pk}"
    assert condition["subject"]["reference"] == f"Patient/{clinic.pat.pk}"
    found = {
        f"Condition?patient={clinic.pat.pk}&code={ICD10}|F41.1": 1,
        f"Condition?patient={clinic.pat.pk}&code={SNOMED}|21897009": 1,
        f"Condition?patient={clinic.pat.pk}&code=F41.1": 1,
        f"Condition?patient={clinic.pat.pk}&code={SNOMED}|F41.1": 0,
        f"Condition?patient={clinic.pat.pk}&code=F40.10": 0,
        f"Condition?subject=Patient/{clinic.pat.pk}&clinical-status=active": 1,
        f"Condition?patient={clinic.pat.pk}&clinical-status=resolved": 0,
        f"Condition?patient={clinic.pat.pk}&category=encounter-diagnosis": 1,
        f"Condition?patient={clinic.pat.pk}&category=problem-list-item": 0,
        f"Condition?patient={clinic.pat.pk}&recorded-date=ge2020-01-01": 1,
        f"Condition?patient={clinic.pat.pk}&recorded-date=lt2020-01-01": 0,
        f"Condition?_id={condition['id']}": 1,
        "Condition?_lastUpdated=ge2020-01-01&_sort=-recorded-date": 1,
        f"Condition?patient={clinic.quinn.pk}": 0,
    }
    for query, count in found.items():
        assert _search(client, query)["total"] == count, query
    read = client.get(f"/fhir/R4/Condition/{condition['id']}")
    assert read.status_code == 200
    assert valid(Condition, read.content)["id"] == condition["id"]


def test_rows_never_change_after_a_later_evaluation_or_decision(clinic: Clinic) -> None:
    first = evaluation_make(clinic)
    client = clinic.api("ada")
    (before,) = _matches(_search(client, f"Condition?patient={clinic.pat.pk}"))
    evaluation_services.decision_record(
        acting_user=clinic.users["ada"], evaluation=first, decision="eligible"
    )
    evaluation_make(clinic, data=ELIGIBLE_EVALUATION | {"diagnoses": ["F42.2"]})
    after = client.get(f"/fhir/R4/Condition/{before['id']}").json()
    assert after == before  # same content, same versionId and lastUpdated
    codes = sorted(
        c["code"]["coding"][0]["code"]
        for c in _matches(_search(client, f"Condition?patient={clinic.pat.pk}"))
    )
    assert codes == ["F41.1", "F42.2"]


@pytest.mark.parametrize("allergies", [[], ["NKDA"], ["None"], ["No known allergies."]])
def test_an_allergy_list_with_none_is_coded_no_known_allergy(
    clinic: Clinic, allergies: list[str]
) -> None:
    evaluation_make(clinic, data=ELIGIBLE_EVALUATION | {"allergies": allergies})
    client = clinic.api("ada")
    (allergy,) = _matches(_search(client, f"AllergyIntolerance?patient={clinic.pat.pk}"))
    AllergyIntolerance.model_validate(allergy)
    assert allergy["code"]["coding"] == [
        {"system": SNOMED, "code": "716186003", "display": "No known allergy"}
    ]
    assert allergy["verificationStatus"]["coding"][0]["code"] == "confirmed"
    query = f"AllergyIntolerance?patient={clinic.pat.pk}&code={SNOMED}|716186003"
    assert _search(client, query)["total"] == 1


def test_allergies_not_asked_record_nothing_and_substances_are_text(clinic: Clinic) -> None:
    without = {k: v for k, v in ELIGIBLE_EVALUATION.items() if k != "allergies"}
    evaluation_make(clinic, data=without)
    client = clinic.api("ada")
    assert _search(client, f"AllergyIntolerance?patient={clinic.pat.pk}")["total"] == 0
    evaluation_make(clinic, data=ELIGIBLE_EVALUATION | {"allergies": ["latex", "NKDA"]})
    (latex,) = _matches(_search(client, f"AllergyIntolerance?patient={clinic.pat.pk}"))
    assert latex["code"] == {"text": "latex"}
    assert latex["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert (
        _search(client, f"AllergyIntolerance?patient={clinic.pat.pk}&code=716186003")["total"] == 0
    )


def test_a_patient_sees_only_their_own_conditions_and_allergies(clinic: Clinic) -> None:
    evaluation_make(clinic)
    evaluation_make(clinic, patient=clinic.quinn)
    quinns = Diagnosis.objects.get(patient=clinic.quinn)
    quinn_allergy = Allergy.objects.get(patient=clinic.quinn)
    mine = clinic.api("pat")
    for name in ("Condition", "AllergyIntolerance"):
        shown = _matches(_search(mine, name))
        assert len(shown) == 1
        key = "subject" if name == "Condition" else "patient"
        assert {r[key]["reference"] for r in shown} == {f"Patient/{clinic.pat.pk}"}
    assert mine.get(f"/fhir/R4/Condition/{quinns.pk}").status_code == 404
    assert mine.get(f"/fhir/R4/AllergyIntolerance/{quinn_allergy.pk}").status_code == 404
    assert mine.get(f"/fhir/R4/Condition?patient={clinic.quinn.pk}").status_code == 404


def test_reads_of_conditions_and_allergies_are_audited(clinic: Clinic) -> None:
    evaluation_make(clinic)
    client = clinic.api("ben")
    diagnosis = Diagnosis.objects.get(patient=clinic.pat)
    allergy = Allergy.objects.get(patient=clinic.pat)
    client.get(f"/fhir/R4/Condition/{diagnosis.pk}")
    _search(client, f"AllergyIntolerance?patient={clinic.pat.pk}")
    for kind, pk in (("Condition", diagnosis.pk), ("AllergyIntolerance", allergy.pk)):
        read = AuditEvent.objects.filter(object_type=kind, object_id=str(pk), action="R")
        assert read.filter(actor=clinic.users["ben"], patient_id=clinic.pat.pk).exists(), kind


def test_the_data_migration_backfills_evaluations_saved_before(clinic: Clinic) -> None:
    from importlib import import_module

    backfill = import_module("ketaclinic.eligibility.migrations.0002_diagnoses_allergies").backfill
    evaluation = evaluation_make(clinic, data=ELIGIBLE_EVALUATION | {"allergies": []})
    Diagnosis.objects.all().delete()
    Allergy.objects.all().delete()
    backfill(apps, None)
    backfill(apps, None)  # a second run adds nothing
    (diagnosis,) = Diagnosis.objects.filter(evaluation=evaluation)
    assert (diagnosis.icd10, diagnosis.source, diagnosis.recorded_at) == (
        "F41.1",
        "evaluation",
        Evaluation.objects.get(pk=evaluation.pk).created_at,
    )
    (allergy,) = Allergy.objects.filter(evaluation=evaluation)
    assert allergy.no_known


def _signed_session(clinic: Clinic) -> Any:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    chart = chart_for(clinic)
    chart.signed()
    return chart.session


def test_dose_order_medication_and_administration_are_linked(clinic: Clinic) -> None:
    from ketaclinic.infusions.models import DoseCheck
    from ketaclinic.ledger.models import EntryKind, LedgerEntry

    session = _signed_session(clinic)
    dose = DoseCheck.objects.filter(session=session).latest("calculated_at")
    container = LedgerEntry.objects.get(session=session, kind=EntryKind.DRAW).container
    client = clinic.api("ada")
    (request,) = _matches(_search(client, f"MedicationRequest?patient={clinic.pat.pk}"))
    MedicationRequest.model_validate(request)
    assert request["id"] == str(session.pk)
    assert (request["status"], request["intent"]) == ("completed", "order")
    started_by = session.course.started_by_id
    assert request["requester"]["reference"] == f"Practitioner/staff-{started_by}"
    assert request["medicationReference"]["reference"] == f"Medication/container-{container.pk}"
    ordered, calculated = request["dosageInstruction"][0]["doseAndRate"]
    assert ordered["doseQuantity"]["code"] == "mg/kg"
    assert ordered["doseQuantity"]["value"] == float(session.course.protocol.mg_per_kg)
    assert calculated["doseQuantity"]["value"] == float(dose.dose_mg)
    assert request["encounter"]["reference"] == f"Encounter/{session.pk}"

    medication = valid(
        Medication, client.get(f"/fhir/R4/Medication/container-{container.pk}").content
    )
    assert medication["batch"]["lotNumber"] == container.lot
    strength = medication["ingredient"][0]["strength"]
    assert strength["numerator"]["value"] == float(container.mg_per_ml)
    assert strength["denominator"]["code"] == "mL"
    codes = {c["system"]: c["code"] for c in medication["code"]["coding"]}
    assert codes["http://www.nlm.nih.gov/research/umls/rxnorm"] == "6130"
    assert _search(client, f"Medication?lot-number={container.lot}")["total"] >= 1

    administration = valid(
        MedicationAdministration,
        client.get(f"/fhir/R4/MedicationAdministration/{session.pk}").content,
    )
    assert administration["medicationReference"] == {
        "reference": f"Medication/container-{container.pk}"
    }
    assert administration["request"] == {"reference": f"MedicationRequest/{session.pk}"}
    for query in ("status=completed", "intent=order", f"encounter=Encounter/{session.pk}"):
        found = _search(client, f"MedicationRequest?patient={clinic.pat.pk}&{query}")
        assert found["total"] == 1, query
    assert _search(client, f"MedicationRequest?patient={clinic.pat.pk}&status=active")["total"] == 0


def test_a_patient_sees_their_own_dose_orders_and_medications_only(clinic: Clinic) -> None:
    from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry

    session = _signed_session(clinic)
    drawn = LedgerEntry.objects.get(session=session, kind=EntryKind.DRAW).container_id
    mine, quinn = clinic.api("pat"), clinic.api("quinn")
    assert [r["id"] for r in _matches(_search(mine, "MedicationRequest"))] == [str(session.pk)]
    assert _search(quinn, "MedicationRequest")["total"] == 0
    assert quinn.get(f"/fhir/R4/MedicationRequest/{session.pk}").status_code == 404
    assert [r["id"] for r in _matches(_search(mine, "Medication"))] == [f"container-{drawn}"]
    assert _search(quinn, "Medication")["total"] == 0
    assert _search(clinic.api("cleo"), "Medication")["total"] == 0  # intake: no ledger
    assert _search(clinic.api("ben"), "Medication")["total"] == Container.objects.count()
    read = AuditEvent.objects.filter(object_type="MedicationRequest", action="R")
    assert read.filter(object_id=str(session.pk), patient_id=clinic.pat.pk).exists()
    assert AuditEvent.objects.filter(object_type="LedgerContainer", action="R").exists()


def test_the_capability_statement_lists_the_new_types_and_the_transaction(clinic: Clinic) -> None:
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    response = clinic.api("ada").get("/fhir/R4/metadata")
    CapabilityStatement.model_validate_json(response.content)
    rest = response.json()["rest"][0]
    assert [i["code"] for i in rest["interaction"]] == ["transaction"]
    listed = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in rest["resource"]}
    assert {"code", "clinical-status", "category", "recorded-date", "patient", "subject"} <= listed[
        "Condition"
    ]
    assert {"code", "patient", "clinical-status", "date"} <= listed["AllergyIntolerance"]
    assert {"code", "lot-number"} <= listed["Medication"]
    assert {"patient", "status", "intent", "encounter"} <= listed["MedicationRequest"]


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_searches_take_a_fixed_number_of_queries_whatever_the_rows(clinic: Clinic) -> None:
    client = clinic.api("ada")
    evaluation_make(clinic)
    urls = [
        f"/fhir/R4/Condition?patient={clinic.pat.pk}",
        f"/fhir/R4/AllergyIntolerance?patient={clinic.pat.pk}",
    ]
    few = [_queries(client, url) for url in urls]
    for _ in range(4):
        evaluation_make(clinic, data=ELIGIBLE_EVALUATION | {"diagnoses": ["F41.1", "F42.2"]})
    assert [_queries(client, url) for url in urls] == few


def test_dose_order_searches_take_a_fixed_number_of_queries(clinic: Clinic) -> None:
    from ketaclinic.infusions.tests.chart_driver import chart_for

    _signed_session(clinic)
    client = clinic.api("ada")
    urls = [
        f"/fhir/R4/MedicationRequest?patient={clinic.pat.pk}",
        f"/fhir/R4/MedicationAdministration?patient={clinic.pat.pk}",
        "/fhir/R4/Medication",
    ]
    one = [_queries(client, url) for url in urls]
    # A second session, dose calculated and drawn (TOTP codes are single use: Ada calculates,
    # Nurse Ben checks): a second dose order, another container drawn from.
    chart_for(clinic).ready(calculator="ada", witness="ben")
    assert client.get(urls[0]).json()["total"] == 2
    assert [_queries(client, url) for url in urls] == one
