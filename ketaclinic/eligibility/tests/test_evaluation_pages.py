"""The evaluation page records what the API records, through the same service; the evaluation
page shows the proposal with every reason and its source; only a clinician decides, and
against the proposal only with a rationale; the signed decision shows its digest."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.eligibility.tests.eligibility_helpers import (
    ELIGIBLE_EVALUATION,
    PREGNANT_EVALUATION,
    evaluation_make,
)
from ketaclinic.testing import Clinic


def _management(prefix: str, total: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def eligible_form() -> dict[str, Any]:
    """The page's form for ELIGIBLE_EVALUATION, with one empty row in each formset."""
    return {
        **_management("trial", 2),
        **_management("therapy", 2),
        **_management("medication", 2),
        "diagnoses": ["F41.1"],
        "gad7": "17",
        "hama": "28",
        "trial-0-name": "sertraline",
        "trial-0-drug_class": "SSRI",
        "trial-0-daily_dose_mg": "150",
        "trial-0-weeks": "10",
        "trial-0-response": "partial",
        "trial-0-side_effects": "nausea",
        "therapy-0-name": "CBT",
        "therapy-0-sessions": "12",
        "medication-0-name": "sertraline",
        "medication-0-drug_class": "SSRI",
        "medical_history": "Asthma in childhood.",
        "allergies": "penicillin\n",
        "systolic": "122",
        "diastolic": "78",
        "heart_rate": "70",
        "spo2": "98",
        "weight_kg": "70.5",
        "height_cm": "172",
        "notes": "Synthetic evaluation.",
    }


def _new_url(clinic: Clinic) -> str:
    return f"/intake/patients/{clinic.pat.pk}/evaluations/new/"


def test_the_form_lists_icd_codes_and_the_rules_checklist(clinic: Clinic) -> None:
    response = clinic.client("ada").get(_new_url(clinic))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="F41.1"' in html and "Generalized anxiety disorder" in html
    assert 'value="F40.11"' in html
    assert 'value="glaucoma"' in html and "Glaucoma." in html
    assert 'value="pregnancy"' in html
    assert 'name="trial-0-weeks"' in html and 'name="therapy-0-sessions"' in html


def test_a_valid_form_stores_what_the_api_would_and_shows_the_proposal(clinic: Clinic) -> None:
    client = clinic.client("ada")
    response = client.post(_new_url(clinic), eligible_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Evaluation.objects.get()
    assert response["Location"] == f"/intake/evaluations/{row.pk}/"
    expected = ELIGIBLE_EVALUATION | {"baseline_scores": {"gad7": 17, "hama": 28}}
    assert row.input_json == expected
    assert row.outcome == "eligible"
    assert row.created_by == clinic.users["ada"]
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="Evaluation", object_id=str(row.pk)
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert 'id="proposal-outcome"' in page and "Eligible" in page
    assert "2025.1" in page
    assert "No rule fired" in page


def test_the_page_shows_every_reason_with_its_text_and_source(clinic: Clinic) -> None:
    form = eligible_form() | {"contraindications": ["glaucoma", "pregnancy"], "systolic": ""}
    client = clinic.client("ada")
    response = client.post(_new_url(clinic), form)
    assert response.status_code == 302
    row = Evaluation.objects.get()
    assert row.outcome == "not_eligible"
    page = client.get(response["Location"]).content.decode()
    for reason in row.proposal_json["reasons"]:
        assert reason["text"] in page
        assert reason["source"].replace("'", "&#x27;") in page
    codes = [r["code"] for r in row.proposal_json["reasons"]]
    assert codes == ["pregnancy", "glaucoma", "bp_not_recorded"]
    assert "Absolute contraindication" in page and "Requirement not met" in page


@pytest.mark.parametrize(
    ("change", "error_id"),
    [
        ({"trial-0-weeks": "ten"}, "id_trial-0-weeks_errors"),
        ({"trial-1-drug_class": "SSRI"}, "id_trial-1-name_errors"),
        ({"systolic": "-5"}, "id_systolic_errors"),
        ({"diagnoses": ["F99.9"]}, "id_diagnoses_errors"),
        ({"contraindications": ["no_such_thing"]}, "id_contraindications_errors"),
        ({"therapy-0-sessions": "many"}, "id_therapy-0-sessions_errors"),
    ],
)
def test_an_invalid_form_shows_errors_beside_fields_and_stores_nothing(
    clinic: Clinic, change: dict[str, Any], error_id: str
) -> None:
    response = clinic.client("ada").post(_new_url(clinic), eligible_form() | change)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="{error_id}"' in html
    assert "Nothing was stored" in html
    assert not Evaluation.objects.exists()


def test_service_errors_land_beside_the_field_they_name(clinic: Clinic) -> None:
    # A NUL passes the form but not the service: its "notes" path is put on the notes field.
    response = clinic.client("ada").post(_new_url(clinic), eligible_form() | {"notes": "a\x00b"})
    assert response.status_code == 422
    assert 'id="id_notes_errors"' in response.content.decode()
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("username", ["ben", "cleo", "dana", "pat"])
def test_only_a_clinician_records_an_evaluation(clinic: Clinic, username: str) -> None:
    client = clinic.client(username)
    assert client.get(_new_url(clinic)).status_code == 403
    assert client.post(_new_url(clinic), eligible_form()).status_code == 403
    assert not Evaluation.objects.exists()


def test_staff_see_the_evaluations_of_a_patient(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic)
    html = clinic.client("ben").get(f"/intake/patients/{clinic.pat.pk}/evaluations/")
    assert html.status_code == 200
    assert f"/intake/evaluations/{evaluation.pk}/" in html.content.decode()
    assert "New evaluation" not in html.content.decode()
    assert (
        "New evaluation"
        in clinic.client("ada")
        .get(f"/intake/patients/{clinic.pat.pk}/evaluations/")
        .content.decode()
    )


# -- decisions ---------------------------------------------------------------------------------


def _decide_url(evaluation: Evaluation) -> str:
    return f"/intake/evaluations/{evaluation.pk}/decision/"


@pytest.mark.parametrize("username", ["ben", "cleo", "dana"])
def test_nurses_intake_and_admin_get_403_on_the_decision_form(
    clinic: Clinic, username: str
) -> None:
    evaluation = evaluation_make(clinic)
    client = clinic.client(username)
    assert client.get(_decide_url(evaluation)).status_code == 403
    response = client.post(_decide_url(evaluation), {"decision": "eligible", "rationale": "ok"})
    assert response.status_code == 403
    assert not EligibilityDecision.objects.exists()
    page = client.get(f"/intake/evaluations/{evaluation.pk}/").content.decode()
    assert "Sign the decision" not in page


def test_deciding_against_the_proposal_needs_a_rationale(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic, data=PREGNANT_EVALUATION)
    client = clinic.client("ada")
    response = client.post(_decide_url(evaluation), {"decision": "eligible", "rationale": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_rationale_errors"' in html
    assert "needs a rationale" in html
    assert not EligibilityDecision.objects.exists()
    response = client.post(
        _decide_url(evaluation),
        {"decision": "eligible", "rationale": "Pregnancy test negative; ticked in error."},
    )
    assert response.status_code == 302
    decision = EligibilityDecision.objects.get()
    assert decision.snapshot["against_proposal"] is True


def test_a_decision_with_the_proposal_is_signed_and_shown_with_its_digest(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic)
    client = clinic.client("ada")
    response = client.post(_decide_url(evaluation), {"decision": "eligible", "rationale": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/intake/evaluations/{evaluation.pk}/"
    decision = EligibilityDecision.objects.get()
    assert decision.decided_by == clinic.users["ada"]
    assert AuditEvent.objects.filter(
        action=Action.EXECUTE, object_type="EligibilityDecision", object_id=str(decision.pk)
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert decision.digest in page
    assert "(verified)" in page
    assert f"/intake/patients/{clinic.pat.pk}/consent/" in page
    patient_page = client.get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "Eligibility: Eligible" in patient_page
    assert f"/intake/patients/{clinic.pat.pk}/evaluations/" in patient_page


def test_a_decision_on_an_older_evaluation_is_refused(clinic: Clinic) -> None:
    older = evaluation_make(clinic)
    evaluation_make(clinic)
    response = clinic.client("ada").post(_decide_url(older), {"decision": "eligible"})
    assert response.status_code == 409
    assert "newer evaluation" in response.content.decode()
    assert not EligibilityDecision.objects.exists()


def test_a_missing_decision_choice_is_422(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic)
    response = clinic.client("ada").post(_decide_url(evaluation), {"decision": "maybe"})
    assert response.status_code == 422
    assert 'id="id_decision_errors"' in response.content.decode()
