"""A synthetic cohort written straight into the tables the outcomes are computed from.

Each spec is a course: its diagnosis, its GAD-7 baseline and the scores after infusions 1-6,
and an optional follow-up score 20 days after the last infusion. Infusions on days 0, 2, 4, 7,
9 and 11 (Murrough 2013's 6 over 12 days); each score is taken the day before the next infusion
(or the day after the last).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ketaclinic.courses.models import Chair, Course, Protocol
from ketaclinic.eligibility.models import Evaluation, ProposalOutcome, RuleSetVersion
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration, AdministrationMode

INFUSION_DAYS = (0, 2, 4, 7, 9, 11)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    diagnosis: str
    baseline: int | None
    after: tuple[int | None, ...]  # scores after infusions 1..n (None: not taken)
    follow_up: int | None = None
    measure: str = "gad7"
    infusions: int = 6


def score_at(n: int) -> datetime:
    """When the score after infusion n is taken: the day before infusion n + 1."""
    if n < len(INFUSION_DAYS):
        return START + timedelta(days=INFUSION_DAYS[n] - 1, hours=1)
    return START + timedelta(days=INFUSION_DAYS[-1] + 1)


def build_cohort(specs: list[Spec], *, clinician: Any, offset_days: int = 0) -> list[Course]:
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None
    chair, _ = Chair.objects.get_or_create(name="Outcomes chair")
    ruleset = RuleSetVersion.objects.order_by("pk").first()
    if ruleset is None:
        ruleset = RuleSetVersion.objects.create(version="outcomes-test", rules_json={})
    shift = timedelta(days=offset_days)
    courses = []
    base = Patient.objects.count()
    for i, spec in enumerate(specs):
        patient = Patient.objects.create(
            mrn=f"OC{base + i:06d}",
            given_name="Synthetic",
            family_name=f"Cohort{base + i}",
            birth_date=datetime(1980, 1, 1, tzinfo=UTC).date(),
            sex_at_birth="unknown",
        )
        Evaluation.objects.create(
            patient=patient,
            input_json={"diagnoses": [spec.diagnosis]},
            proposal_json={},
            outcome=ProposalOutcome.ELIGIBLE,
            ruleset=ruleset,
            created_by=clinician,
        )
        course = Course.objects.create(patient=patient, protocol=protocol, started_by=clinician)
        for day in INFUSION_DAYS[: spec.infusions]:
            start = START + shift + timedelta(days=day)
            Session.objects.create(
                course=course,
                chair=chair,
                phase="induction",
                start=start,
                chair_until=start + timedelta(hours=3),
                status=SessionStatus.SIGNED,
                created_by=clinician,
            )
        taken: list[tuple[datetime, int]] = []
        if spec.baseline is not None:
            taken.append((START + shift - timedelta(days=2), spec.baseline))
        for n, value in enumerate(spec.after, start=1):
            if value is not None:
                taken.append((score_at(n) + shift, value))
        if spec.follow_up is not None:
            last = START + shift + timedelta(days=INFUSION_DAYS[spec.infusions - 1])
            taken.append((last + timedelta(days=20), spec.follow_up))
        Administration.objects.bulk_create(
            Administration(
                patient=patient,
                instrument=spec.measure,
                answers={},
                total=value,
                administered_at=at,
                entered_by=clinician,
                mode=AdministrationMode.STAFF_ENTRY,
            )
            for at, value in taken
        )
        courses.append(course)
    return courses
