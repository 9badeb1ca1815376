"""Synthetic care plans the tests, the URL matrix and the demo share: a therapist account and
a complete, signable plan's content (synthetic)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.careplan.models import CarePlanVersion
from ketaclinic.careplan.rules import content as plan_content
from ketaclinic.careplan.services import plans
from ketaclinic.patients.models import Patient

THERAPIST_USERNAME = "theo"


def therapist_get_or_create(username: str = THERAPIST_USERNAME, password: str = "") -> User:
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return user_create(
        acting_user=None,
        username=username,
        role=Role.THERAPIST,
        password=password or "unused-" + username + "-synthetic-9Xq",
        validate=False,
    )


def content_complete(*, therapist: User | None = None, course_id: str = "") -> dict[str, Any]:
    content = plan_content.empty()
    content["problems"] = ["I worry all day and can't switch off at night"]
    content["goals"] = [
        {
            "key": "g1",
            "text": "Feel calm enough to sleep",
            "kind": "scale",
            "instrument": "gad7",
            "comparator": "lt",
            "threshold": 10,
            "target": "",
            "target_date": "",
        },
        {
            "key": "g2",
            "text": "Back at work",
            "kind": "target",
            "instrument": "",
            "comparator": "",
            "threshold": None,
            "target": "back to work three days a week",
            "target_date": (timezone.localdate() + timedelta(days=90)).isoformat(),
        },
    ]
    content["course_id"] = course_id
    if therapist is not None:
        content["psychotherapy"] = {
            "provider": "in_house",
            "therapist_id": therapist.pk,
            "external_name": "",
            "external_contact": "",
            "modality": "cbt",
            "frequency": "weekly",
        }
        content["integration"] = {
            "planned": True,
            "therapist_id": therapist.pk,
            "timing": "within two days of each infusion",
        }
    content["medications"] = "Continue sertraline 100 mg; review at week 6."
    content["lifestyle"] = {
        "sleep": "In bed by 23:00, no screens after 22:00",
        "exercise": "A 20-minute walk most days",
        "alcohol": "No alcohol on infusion days; at most 4 drinks a week",
        "substances": "None",
    }
    content["safety_plan"] = {
        "warning_signs": ["Lying awake going over the same worry", "Skipping meals"],
        "coping": ["Box breathing for five minutes", "Walk round the block"],
        "distraction": ["Coffee with my sister", "The library"],
        "help_people": ["Sam (friend)"],
        "professionals": ["The clinic during opening hours"],
        "environment": ["Keep only a week of medication at home"],
    }
    return content


def plan_signed(
    *,
    clinician: User,
    patient: Patient,
    therapist: User | None = None,
    review_on: date | None = None,
    content: dict[str, Any] | None = None,
) -> CarePlanVersion:
    """A care plan written and signed through the services (audited as in real use)."""
    draft = plans.careplan_draft_start(acting_user=clinician, patient=patient)
    plans.careplan_draft_save(
        acting_user=clinician,
        version=draft,
        content=content or content_complete(therapist=therapist),
        review_on=review_on or timezone.localdate() + timedelta(days=60),
        plan_status="active",
    )
    return plans.careplan_sign(acting_user=clinician, version=draft)
