"""Builders for the portal's rows of the URL role matrix (tests/test_url_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.scales.models import RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.testing import Clinic


def ride_url(c: Clinic) -> str:
    session = session_make(c, start=timezone.now() + timedelta(days=1))
    return f"/portal/sessions/{session.pk}/ride/"


def due_questionnaire_url(c: Clinic) -> str:
    schedule_create(
        acting_user=c.users["ada"],
        patient=c.pat,
        instrument_code="gad7",
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
    )
    return "/portal/questionnaires/gad7/"
