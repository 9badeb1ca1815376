"""The demo's care plans (issue 15): an integration therapist login, signed care plans for a
few patients with courses (Pat's among them, so the portal shows one), and integration notes.
Built through the careplan services, so the audit trail holds every write. Synthetic."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.careplan.models import CarePlan
from ketaclinic.careplan.samples import content_complete, plan_signed
from ketaclinic.careplan.services import notes
from ketaclinic.courses.models import Course
from ketaclinic.patients.models import Patient

THERAPIST = ("theo", "Theo", "Brandt", "Theo, integration therapist")
PLANS = 3


def therapist_ensure(password: str) -> User:
    username, first, last, _label = THERAPIST
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            acting_user=None,
            username=username,
            role=Role.THERAPIST,
            password=password,
            email=f"{username}@clinic.example.org",
            validate=False,
        )
        User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)
        user.first_name, user.last_name = first, last
    return user


def careplans_ensure(*, clinician: User, password: str) -> User:
    """Idempotent: the plans are written once."""
    therapist = therapist_ensure(password)
    if CarePlan.objects.exists():
        return therapist
    portal_patient = Patient.objects.filter(user_account__username="pat").first()
    with_courses = list(
        Patient.objects.filter(courses__isnull=False).distinct().order_by("created_at", "mrn")
    )
    chosen = ([portal_patient] if portal_patient else []) + [
        p for p in with_courses if p != portal_patient
    ]
    for index, patient in enumerate(chosen[:PLANS]):
        course = Course.objects.filter(patient=patient).order_by("-started_at").first()
        content = content_complete(therapist=therapist, course_id=str(course.pk) if course else "")
        version = plan_signed(
            clinician=clinician,
            patient=patient,
            therapist=therapist,
            review_on=timezone.localdate() + timedelta(days=30 + 15 * index),
            content=content,
        )
        if index == 2:
            continue  # a patient with no note yet: the therapist's "notes to write"
        note = notes.integration_note_save(
            acting_user=therapist,
            plan=version.plan,
            session_on=timezone.localdate() - timedelta(days=2 + index),
            themes="Noticed the worry as a passing sensation rather than a fact; "
            "a memory of school exams came up and felt less charged.",
            intentions="Practise the breathing exercise before bed; "
            "write down one worry a day and let it go.",
            goal_progress=[
                {
                    "goal": "g1",
                    "text": content["goals"][0]["text"],
                    "progress": "Slept through two nights this week.",
                },
                {
                    "goal": "g2",
                    "text": content["goals"][1]["text"],
                    "progress": "Spoke to the manager about a phased return.",
                },
            ],
            risk_positive=False,
            risk_note="",
        )
        notes.integration_note_sign(acting_user=therapist, note=note)
    return therapist
