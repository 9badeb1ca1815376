"""Builders for the session chart's rows of the URL role matrix (tests/test_url_matrix.py):
a session brought to the state each URL needs, and request bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from ketaclinic.infusions.models import Session, SessionAlert
from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import PASSWORD, Clinic


def _chart(clinic: Clinic, state: str) -> Chart:
    chart = chart_for(clinic, chair=f"Matrix chair {Session.objects.count()}")
    if state == "scheduled":
        return chart
    if state == "checked_in":
        assert chart.check_in().status_code == 200
    elif state == "dosed_by_ada":
        assert chart.check_in().status_code == 200
        assert chart.post("/dose", {"weight_kg": 70, "concentration_mg_per_ml": 10}, who="ada")
    elif state == "ready":
        chart.ready()
    elif state in ("infusing", "alerted"):
        chart.infusing()
        if state == "alerted":
            assert chart.vitals(heart_rate=120).status_code == 201
    elif state == "recovery":
        chart.in_recovery(stopped_minutes_ago=61)
    elif state == "discharged":
        chart.discharged()  # the dose drawn from the ledger and given in full: it balances
    elif state == "signed":
        chart.discharged()
        for who in ("ben", "ada"):
            assert chart.post("/sign", who=who).status_code == 200
    else:
        raise ValueError(state)
    return chart


def api_url(state: str, suffix: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/api/v1/sessions/{_chart(c, state).session.pk}{suffix}"


def page_url(state: str, suffix: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/infusions/sessions/{_chart(c, state).session.pk}/{suffix}"


def alert_api_url(c: Clinic) -> str:
    chart = _chart(c, "alerted")
    alert = SessionAlert.objects.filter(session=chart.session).first()
    assert alert is not None
    return f"/api/v1/sessions/{chart.session.pk}/alerts/{alert.pk}/acknowledge"


def alert_page_url(c: Clinic) -> str:
    chart = _chart(c, "alerted")
    alert = SessionAlert.objects.filter(session=chart.session).first()
    assert alert is not None
    return f"/infusions/sessions/{chart.session.pk}/alerts/{alert.pk}/acknowledge/"


def now() -> str:
    return timezone.now().isoformat()


def prechecks_body(_: Clinic) -> dict[str, Any]:
    return {
        "identity_confirmed": True,
        "consent_current": True,
        "fasting": True,
        "escort_confirmed": True,
        "pregnancy_test": "not_applicable",
        "questionnaires_done": True,
        "weight_kg": 70,
        "weight_measured_at": now(),
    }


def dose_body(_: Clinic) -> dict[str, Any]:
    return {"weight_kg": 70, "concentration_mg_per_ml": 10, "bag_volume_ml": 100}


def witness_ben_body(_: Clinic) -> dict[str, Any]:
    # Nurse Ben as the second checker (no TOTP device): a TOTP code cannot be used twice.
    return {"username": "ben", "password": PASSWORD}


def vitals_body(_: Clinic) -> dict[str, Any]:
    return {
        "at": now(),
        "systolic": 125,
        "diastolic": 82,
        "heart_rate": 75,
        "spo2": 97,
        "resp_rate": 13,
    }


def side_effect_body(_: Clinic) -> dict[str, Any]:
    return {"at": now(), "effect": "nausea", "severity": "mild"}


def assessment_body(_: Clinic) -> dict[str, Any]:
    return {"at": now(), "instrument": "dissociation_0_4", "score": 1}


def discharge_body(_: Clinic) -> dict[str, Any]:
    return {"aldrete": 10, "escort_present": True, "instructions_given": True}
