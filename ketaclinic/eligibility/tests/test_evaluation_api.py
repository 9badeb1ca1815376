"""POST /api/v1/patients/{id}/evaluations: stored with its proposal, or refused whole."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import Evaluation, RuleSetVersion
from ketaclinic.eligibility.tests.eligibility_helpers import (
    ELIGIBLE_EVALUATION,
    GLAUCOMA_EVALUATION,
    PREGNANT_EVALUATION,
    post_json,
)
from ketaclinic.testing import Clinic


def _url(clinic: Clinic, patient_id: object = None) -> str:
    return f"/api/v1/patients/{patient_id or clinic.pat.pk}/evaluations"


def test_the_shipped_rule_set_is_loaded_and_active(db: Any) -> None:
    active = RuleSetVersion.objects.get(active=True)
    assert active.version == "2025.1"
    assert active.created_by is None


def test_an_evaluation_is_stored_with_its_proposal_and_answers_201(clinic: Clinic) -> None:
    response = post_json(clinic.api("ada"), _url(clinic), ELIGIBLE_EVALUATION)
    assert response.status_code == 201, response.content
    body = response.json()
    row = Evaluation.objects.get(pk=body["id"])
    assert row.patient == clinic.pat
    assert body["evaluation"] == ELIGIBLE_EVALUATION == row.input_json
    assert body["proposal"]["outcome"] == "eligible"
    assert body["proposal"]["reasons"] == []
    assert body["proposal"]["rules_version"] == "2025.1" == body["rules_version"]
    assert row.ruleset.version == "2025.1"
    assert body["decision"] is None
    assert AuditEvent.objects.filter(object_type="Evaluation", object_id=str(row.pk)).exists()


def test_a_contraindication_gives_reasons_with_kind_text_and_source(clinic: Clinic) -> None:
    response = post_json(clinic.api("ada"), _url(clinic), GLAUCOMA_EVALUATION)
    assert response.status_code == 201
    proposal = response.json()["proposal"]
    assert proposal["outcome"] == "needs_review"
    (reason,) = proposal["reasons"]
    assert set(reason) == {"code", "kind", "text", "source"}
    assert reason["code"] == "glaucoma"
    assert reason["kind"] == "relative_contraindication"
    assert reason["source"]

    pregnant = post_json(clinic.api("ada"), _url(clinic), PREGNANT_EVALUATION).json()
    assert pregnant["proposal"]["outcome"] == "not_eligible"
    assert [r["code"] for r in pregnant["proposal"]["reasons"]] == ["pregnancy"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diagnoses": ["not an icd code"]}, "diagnoses[0]"),
        ({"vitals": {"systolic": "high"}}, "vitals.systolic"),
        (
            {"prior_treatments": [{"kind": "medication", "name": "sertraline", "weeks": "ten"}]},
            "prior_treatments[0].weeks",
        ),
        ({"prior_treatments": [{"kind": "pill", "name": "x"}]}, "prior_treatments[0].kind"),
        ({"contraindications": ["Glaucoma!"]}, "contraindications[0]"),
        ({"pregnancy_status": "pregnant"}, "pregnancy_status"),
        ({"baseline_scores": {"gad7": "seventeen"}}, "baseline_scores.gad7"),
        ({"allergies": "latex"}, "allergies"),
        ({"medical_history": 12}, "medical_history"),
    ],
)
def test_bad_input_is_422_with_field_paths_and_nothing_is_stored(
    clinic: Clinic, change: dict[str, Any], field: str
) -> None:
    response = post_json(clinic.api("ada"), _url(clinic), ELIGIBLE_EVALUATION | change)
    assert response.status_code == 422, response.content
    fields = [problem["field"] for problem in response.json()["detail"]]
    assert field in fields
    assert not Evaluation.objects.exists()


def test_an_unknown_field_and_a_non_object_body_are_refused(clinic: Clinic) -> None:
    response = post_json(clinic.api("ada"), _url(clinic), {"contraindication": ["glaucoma"]})
    assert response.status_code == 422
    assert "unknown key 'contraindication'" in response.json()["detail"][0]["msg"]
    bodies: list[object] = [[], "text", None]
    for body in bodies:
        assert post_json(clinic.api("ada"), _url(clinic), body).status_code == 422
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("username", ["ben", "cleo", "dana", "pat"])
def test_only_a_clinician_records_an_evaluation(clinic: Clinic, username: str) -> None:
    response = post_json(clinic.api(username), _url(clinic), ELIGIBLE_EVALUATION)
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_an_unknown_or_malformed_patient_is_404(clinic: Clinic) -> None:
    for patient_id in ("00000000-0000-0000-0000-000000000000", "nope"):
        response = post_json(clinic.api("ada"), _url(clinic, patient_id), ELIGIBLE_EVALUATION)
        assert response.status_code == 404


def test_staff_read_evaluations_and_patients_do_not(clinic: Clinic) -> None:
    created = post_json(clinic.api("ada"), _url(clinic), ELIGIBLE_EVALUATION).json()
    for username in ("ada", "ben", "cleo", "dana"):
        listed = clinic.api(username).get(_url(clinic))
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()] == [created["id"]]
        one = clinic.api(username).get(f"/api/v1/evaluations/{created['id']}")
        assert one.json()["proposal"] == created["proposal"]
    assert clinic.api("pat").get(_url(clinic)).status_code == 403
    assert clinic.api("pat").get(f"/api/v1/evaluations/{created['id']}").status_code == 403
    assert clinic.api("ada").get("/api/v1/evaluations/999999").status_code == 404
    assert clinic.api("ada").get("/api/v1/evaluations/x1").status_code == 404
