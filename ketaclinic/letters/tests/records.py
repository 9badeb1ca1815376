"""A record to write letters from, written straight into the tables the letters read (as the
outcomes tests' cohort is): Pat's eligibility decision, a course of six signed infusions with
GAD-7 and PHQ-9 before and after, a side effect charted, and a GP to write to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from ketaclinic.courses.models import Chair, Course, CourseStatus, Protocol
from ketaclinic.eligibility.models import (
    DecisionChoice,
    EligibilityDecision,
    Evaluation,
    ProposalOutcome,
    RuleSetVersion,
)
from ketaclinic.infusions.models import ChartEntry, ChartEntryKind, Session, SessionStatus
from ketaclinic.letters.models import Letter, LetterKind, Recipient, RecipientKind
from ketaclinic.letters.services.letters import letter_draft, letter_send, letter_sign
from ketaclinic.letters.services.recipients import recipient_add
from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration, AdministrationMode
from ketaclinic.testing import Clinic

INFUSION_DAYS = (0, 2, 4, 7, 9, 11)
GAD7 = (16, 12, 9, 7, 5, 4, 3)  # baseline, then after each infusion: remission at the end
PHQ9 = (14, 13, 11, 10, 8, 7, 6)  # 14 -> 6: a 57% fall, response without remission
REASON = "GAD-7 of 16 after two adequate trials (sertraline, CBT)."


def decision_make(clinic: Clinic, patient: Patient | None = None) -> EligibilityDecision:
    patient = patient or clinic.pat
    ada = clinic.users["ada"]
    ruleset = RuleSetVersion.objects.order_by("pk").first()
    if ruleset is None:
        ruleset = RuleSetVersion.objects.create(version="letters-test", rules_json={})
    proposal = {"outcome": "eligible", "reasons": [{"code": "gad", "kind": "ok", "text": REASON}]}
    evaluation = Evaluation.objects.create(
        patient=patient,
        input_json={"diagnoses": ["F41.1"]},
        proposal_json=proposal,
        outcome=ProposalOutcome.ELIGIBLE,
        ruleset=ruleset,
        created_by=ada,
    )
    return EligibilityDecision.objects.create(
        evaluation=evaluation,
        patient=patient,
        decision=DecisionChoice.ELIGIBLE,
        rationale="Treatment-resistant GAD; no contraindication.",
        decided_by=ada,
        snapshot={"proposal": proposal},
        digest="0" * 64,
    )


def course_make(clinic: Clinic, patient: Patient | None = None, *, ended: bool = False) -> Course:
    patient = patient or clinic.pat
    ada = clinic.users["ada"]
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None
    chair, _ = Chair.objects.get_or_create(name="Letters chair")
    start = timezone.now() - timedelta(days=40)
    course = Course.objects.create(patient=patient, protocol=protocol, started_by=ada)
    sessions = []
    for day in INFUSION_DAYS:
        at = start + timedelta(days=day)
        sessions.append(
            Session.objects.create(
                course=course,
                chair=chair,
                phase="induction",
                start=at,
                chair_until=at + timedelta(hours=3),
                status=SessionStatus.SIGNED,
                created_by=ada,
            )
        )
    ChartEntry.objects.create(
        session=sessions[0],
        kind=ChartEntryKind.SIDE_EFFECT,
        at=sessions[0].start + timedelta(minutes=20),
        data_json='{"effect":"nausea","severity":"mild"}',
        recorded_by=clinic.users["ben"],
    )
    for code, values in (("gad7", GAD7), ("phq9", PHQ9)):
        times = [start - timedelta(days=2)] + [
            start + timedelta(days=day + 1) for day in INFUSION_DAYS
        ]
        Administration.objects.bulk_create(
            Administration(
                patient=patient,
                instrument=code,
                answers={},
                total=value,
                administered_at=at,
                entered_by=ada,
                mode=AdministrationMode.STAFF_ENTRY,
            )
            for at, value in zip(times, values, strict=True)
        )
    if ended:
        course.status = CourseStatus.ENDED
        course.ended_at = start + timedelta(days=30)
        course.status_reason = "Induction complete; care returned to the GP"
        course.save()
    return course


def gp_make(clinic: Clinic, patient: Patient | None = None) -> Recipient:
    return recipient_add(
        acting_user=clinic.users["ada"],
        patient=patient or clinic.pat,
        kind=RecipientKind.GP,
        name="Dr Hal Moss",
        organisation="Riverside Surgery",
        email="hal.moss@surgery.example",
        address="2 Example Road\nTestville",
    )


def signed_letter(
    clinic: Clinic,
    patient: Patient | None = None,
    *,
    kind: str = LetterKind.INDUCTION,
    sent: bool = True,
) -> Letter:
    """A signed (and, unless told, printed) letter about the patient: its course and a GP."""
    patient = patient or clinic.pat
    course_make(clinic, patient)
    ada: Any = clinic.users["ada"]
    letter = letter_draft(
        acting_user=ada, patient=patient, kind=kind, recipient=gp_make(clinic, patient)
    )
    letter = letter_sign(acting_user=ada, letter=letter)
    if sent:
        letter_send(acting_user=ada, letter=letter, method="print")
    return letter
