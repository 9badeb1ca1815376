"""A course starts only with a latest decision "eligible" and a current consent."""

from __future__ import annotations

from typing import Any

from ketaclinic.consent.models import ConsentDocument
from ketaclinic.courses.models import Course, Protocol
from ketaclinic.eligibility.clearance import treatment_clearance
from ketaclinic.eligibility.tests.eligibility_helpers import (
    GLAUCOMA_EVALUATION,
    consent_all,
    current_documents,
    decision_make,
    post_json,
)
from ketaclinic.testing import Clinic


def _start(clinic: Clinic) -> Any:
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None
    return post_json(
        clinic.api("ada"), f"/api/v1/patients/{clinic.pat.pk}/courses", {"protocol": protocol.pk}
    )


def test_not_cleared_without_decision_or_consent(clinic: Clinic) -> None:
    verdict = treatment_clearance(clinic.pat)
    assert not verdict.cleared
    assert verdict.reasons[0] == "no eligible decision recorded"
    assert verdict.reasons[1].startswith("no current consent: not signed: ")


def test_an_eligible_decision_alone_does_not_clear(clinic: Clinic) -> None:
    decision_make(clinic)
    verdict = treatment_clearance(clinic.pat)
    assert not verdict.cleared
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0].startswith("no current consent")


def test_a_consent_alone_does_not_clear(clinic: Clinic) -> None:
    consent_all(clinic)
    verdict = treatment_clearance(clinic.pat)
    assert verdict.reasons == ("no eligible decision recorded",)


def test_a_partial_consent_names_what_is_missing(clinic: Clinic) -> None:
    decision_make(clinic)
    from ketaclinic.consent.services import consent_record_witnessed

    first, second = current_documents()
    consent_record_witnessed(
        acting_user=clinic.users["ben"], patient=clinic.pat, document_id=first.pk, signed_name="P"
    )
    verdict = treatment_clearance(clinic.pat)
    assert verdict.reasons == (f"no current consent: not signed: {second.title} (version 1)",)


def test_a_later_deferred_or_not_eligible_decision_withdraws_clearance(clinic: Clinic) -> None:
    consent_all(clinic)
    decision_make(clinic)
    assert treatment_clearance(clinic.pat).cleared
    decision_make(clinic, decision="deferred", rationale="New cardiac symptoms.")
    verdict = treatment_clearance(clinic.pat)
    assert verdict.reasons == ("no eligible decision recorded: the latest decision is deferred",)


def test_a_new_document_version_makes_consent_not_current(clinic: Clinic) -> None:
    consent_all(clinic)
    decision_make(clinic)
    old = current_documents()[0]
    old.active = False
    old.save(update_fields=["active"])
    ConsentDocument.objects.create(
        code=old.code,
        version=2,
        title=old.title,
        body=old.body + "\nA new paragraph.",
        effective_from=old.effective_from,
        digest="0" * 64,
    )
    assert not treatment_clearance(clinic.pat).cleared


def test_a_course_starts_only_when_cleared(clinic: Clinic) -> None:
    before = _start(clinic)
    assert before.status_code == 409
    assert not Course.objects.exists()

    decision_make(clinic, decision="eligible")
    assert _start(clinic).status_code == 409
    consent_all(clinic)
    after = _start(clinic)
    assert after.status_code == 201, after.content
    assert Course.objects.get(pk=after.json()["id"]).patient == clinic.pat


def test_an_eligible_decision_against_a_needs_review_proposal_clears(clinic: Clinic) -> None:
    from ketaclinic.eligibility.services import decision_record
    from ketaclinic.eligibility.tests.eligibility_helpers import evaluation_make

    evaluation = evaluation_make(clinic, data=GLAUCOMA_EVALUATION)
    decision_record(
        acting_user=clinic.users["ada"],
        evaluation=evaluation,
        decision="eligible",
        rationale="Ophthalmology cleared.",
    )
    consent_all(clinic)
    assert treatment_clearance(clinic.pat).cleared
