"""Only a clinician decides; against the proposal only with a rationale; signed and audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import EligibilityDecision
from ketaclinic.eligibility.services import decision_latest, decision_verify
from ketaclinic.eligibility.tests.eligibility_helpers import (
    GLAUCOMA_EVALUATION,
    PREGNANT_EVALUATION,
    evaluation_make,
    post_json,
)
from ketaclinic.lib.hashchain import digest
from ketaclinic.testing import Clinic


def _decide(clinic: Clinic, username: str, evaluation_id: int, **body: Any) -> Any:
    return post_json(clinic.api(username), f"/api/v1/evaluations/{evaluation_id}/decision", body)


@pytest.mark.parametrize("username", ["ben", "cleo", "dana", "pat"])
def test_nobody_but_a_clinician_decides(clinic: Clinic, username: str) -> None:
    evaluation = evaluation_make(clinic)
    response = _decide(clinic, username, evaluation.pk, decision="eligible", rationale="ok")
    assert response.status_code == 403
    assert not EligibilityDecision.objects.exists()


@pytest.mark.parametrize(
    ("data", "decision"),
    [
        (PREGNANT_EVALUATION, "eligible"),  # proposal not_eligible
        (GLAUCOMA_EVALUATION, "eligible"),  # proposal needs_review: agrees with no decision
        (None, "not_eligible"),  # proposal eligible
        (None, "deferred"),
    ],
)
def test_against_the_proposal_without_rationale_is_422_and_nothing_is_stored(
    clinic: Clinic, data: dict[str, Any] | None, decision: str
) -> None:
    evaluation = evaluation_make(clinic, data=data)
    for rationale in ({}, {"rationale": ""}, {"rationale": "   "}):
        response = _decide(clinic, "ada", evaluation.pk, decision=decision, **rationale)
        assert response.status_code == 422, response.content
        assert [p["field"] for p in response.json()["detail"]] == ["rationale"]
    assert not EligibilityDecision.objects.exists()


def test_with_the_proposal_no_rationale_is_needed(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic)
    response = _decide(clinic, "ada", evaluation.pk, decision="eligible")
    assert response.status_code == 201
    assert response.json()["against_proposal"] is False


def test_a_decision_against_the_proposal_with_rationale_is_signed_audited_and_on_the_banner(
    clinic: Clinic,
) -> None:
    evaluation = evaluation_make(clinic, data=GLAUCOMA_EVALUATION)
    response = _decide(
        clinic,
        "ada",
        evaluation.pk,
        decision="eligible",
        rationale="Ophthalmology: open angles, pressure normal; no glaucoma risk.",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    row = EligibilityDecision.objects.get(pk=body["id"])
    assert body["against_proposal"] is True
    assert body["decided_by"] == "ada"
    assert row.patient == clinic.pat
    assert row.digest == body["digest"] == digest(row.snapshot)
    assert decision_verify(row)
    assert row.snapshot["proposal"] == evaluation.proposal_json
    assert row.snapshot["evaluation"]["input"] == GLAUCOMA_EVALUATION
    assert row.snapshot["rules_version"] == "2025.1"
    assert row.snapshot["decision"] == "eligible"
    assert AuditEvent.objects.filter(
        object_type="EligibilityDecision", object_id=str(row.pk), action="E"
    ).exists()

    # A changed row no longer verifies.
    EligibilityDecision.objects.filter(pk=row.pk).update(decision="not_eligible")
    assert not decision_verify(EligibilityDecision.objects.get(pk=row.pk))
    EligibilityDecision.objects.filter(pk=row.pk).update(decision="eligible")

    page = clinic.client("ben").get(f"/patients/{clinic.pat.pk}/")
    assert page.status_code == 200
    assert b"Eligibility: Eligible" in page.content
    # The patient has the portal, never the staff page with its eligibility line.
    own = clinic.client("pat").get(f"/patients/{clinic.pat.pk}/")
    assert own.status_code == 404
    assert b"Eligibility" not in clinic.client("pat").get("/portal/").content
    other = clinic.client("ben").get(f"/patients/{clinic.quinn.pk}/")
    assert b"No eligibility decision" in other.content

    shown = clinic.api("ben").get(f"/api/v1/evaluations/{evaluation.pk}").json()
    assert shown["decision"]["id"] == row.pk


def test_the_latest_decision_counts_and_is_read_in_one_query(clinic: Clinic) -> None:
    evaluation = evaluation_make(clinic, data=GLAUCOMA_EVALUATION)
    first = _decide(clinic, "ada", evaluation.pk, decision="deferred", rationale="Eye exam first.")
    assert first.status_code == 201
    later = _decide(clinic, "ada", evaluation.pk, decision="eligible", rationale="Eyes fine.")
    assert later.status_code == 201
    with CaptureQueriesContext(connection) as queries:
        latest = decision_latest(clinic.pat)
        assert latest is not None
        assert latest.decided_by.get_username() == "ada"
    assert len(queries) == 1
    assert latest.pk == later.json()["id"]
    assert EligibilityDecision.objects.count() == 2


def test_a_decision_on_an_older_evaluation_is_refused(clinic: Clinic) -> None:
    older = evaluation_make(clinic)
    evaluation_make(clinic, data=PREGNANT_EVALUATION)
    response = _decide(clinic, "ada", older.pk, decision="eligible")
    assert response.status_code == 409
    assert not EligibilityDecision.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"decision": "maybe"}, {"decision": "eligible", "extra": 1}, {"decision": 1}, {}],
)
def test_a_malformed_decision_is_422(clinic: Clinic, body: dict[str, Any]) -> None:
    evaluation = evaluation_make(clinic)
    response = post_json(clinic.api("ada"), f"/api/v1/evaluations/{evaluation.pk}/decision", body)
    assert response.status_code == 422
    assert not EligibilityDecision.objects.exists()
