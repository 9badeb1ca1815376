"""FHIR CarePlan from the signed care plan versions: validated with fhir.resources R4B, read
and searched (patient, status, date, _lastUpdated), versioned reads, audited; drafts never
served; a patient reads only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.careplan.samples import plan_signed, therapist_get_or_create
from ketaclinic.careplan.services import plans
from ketaclinic.testing import Clinic

FHIR = "application/fhir+json"


@pytest.mark.django_db
def test_care_plan_read_search_and_versions(clinic: Clinic) -> None:
    theo = therapist_get_or_create()
    v1 = plan_signed(clinician=clinic.users["ada"], patient=clinic.pat, therapist=theo)
    api = clinic.api("ada")
    plan_id = str(v1.plan_id)
    read = api.get(f"/fhir/R4/CarePlan/{plan_id}")
    assert read.status_code == 200, read.content
    resource = read.json()
    FhirCarePlan.model_validate(resource)
    assert resource["status"] == "active" and resource["intent"] == "plan"
    assert resource["meta"]["versionId"] == "1"
    goals = {g["id"]: g for g in resource["contained"]}
    assert resource["goal"] == [{"reference": "#g1"}, {"reference": "#g2"}]
    gad7 = goals["g1"]["target"][0]
    assert gad7["measure"]["coding"][0]["code"] == "70274-6"
    assert gad7["detailQuantity"] == {"value": 10, "comparator": "<"}
    assert goals["g2"]["target"][0]["detailString"] == "back to work three days a week"
    titles = [a["detail"]["code"]["text"] for a in resource["activity"]]
    assert "Integration sessions after infusions" in titles
    safety = next(
        a for a in resource["activity"] if a["detail"]["code"]["text"].startswith("Safety")
    )
    assert "988" in safety["detail"]["description"]
    assert AuditEvent.objects.filter(
        object_type="CarePlan", object_id=plan_id, action=Action.READ
    ).exists()

    # A new draft is not served; once signed, the read is version 2 and _history has both.
    draft = plans.careplan_draft_start(acting_user=clinic.users["ada"], patient=clinic.pat)
    assert api.get(f"/fhir/R4/CarePlan/{plan_id}").json()["meta"]["versionId"] == "1"
    plans.careplan_draft_save(
        acting_user=clinic.users["ada"],
        version=draft,
        content={**draft.content, "problems": ["Less panic; crowds still hard"]},
        review_on=timezone.localdate() + timedelta(days=90),
        plan_status="completed",
    )
    plans.careplan_sign(acting_user=clinic.users["ada"], version=draft)
    current = api.get(f"/fhir/R4/CarePlan/{plan_id}").json()
    assert current["meta"]["versionId"] == "2" and current["status"] == "completed"
    history = api.get(f"/fhir/R4/CarePlan/{plan_id}/_history").json()
    assert history["type"] == "history" and history["total"] == 2
    old = api.get(f"/fhir/R4/CarePlan/{plan_id}/_history/1").json()
    assert old["status"] == "active" and old["meta"]["versionId"] == "1"
    assert api.get(f"/fhir/R4/CarePlan/{plan_id}/_history/3").status_code == 404

    # Search: one entry per plan (its last signed version).
    plan_signed(clinician=clinic.users["ada"], patient=clinic.quinn)
    by_patient = api.get(f"/fhir/R4/CarePlan?patient={clinic.pat.pk}").json()
    assert by_patient["total"] == 1
    assert api.get("/fhir/R4/CarePlan?status=completed").json()["total"] == 1
    assert api.get("/fhir/R4/CarePlan?status=active").json()["total"] == 1
    today = timezone.localdate().isoformat()
    assert api.get(f"/fhir/R4/CarePlan?date={today}").json()["total"] == 2
    assert api.get("/fhir/R4/CarePlan?_lastUpdated=gt2000-01-01").json()["total"] == 2
    assert api.get("/fhir/R4/CarePlan?date=lt2000-01-01").json()["total"] == 0


@pytest.mark.django_db
def test_a_patient_reads_only_their_own_care_plan(clinic: Clinic) -> None:
    mine = plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    theirs = plan_signed(clinician=clinic.users["ada"], patient=clinic.quinn)
    pat = clinic.api("pat")
    assert pat.get(f"/fhir/R4/CarePlan/{mine.plan_id}").status_code == 200
    assert pat.get(f"/fhir/R4/CarePlan/{theirs.plan_id}").status_code == 404
    assert pat.get("/fhir/R4/CarePlan").json()["total"] == 1


@pytest.mark.django_db
def test_capability_lists_care_plan_as_versioned(clinic: Clinic) -> None:
    statement = clinic.api("ada").get("/fhir/R4/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "CarePlan")
    assert entry["versioning"] == "versioned" and entry["readHistory"] is True
    names = {p["name"] for p in entry["searchParam"]}
    assert {"patient", "status", "date", "_lastUpdated"} <= names
