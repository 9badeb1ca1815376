"""The trends page: chart data with bands, infusion markers, response and remission lines;
item-level answers on demand (HTMX); reading it is audited."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.scales import instruments, trends
from ketaclinic.scales.models import Administration
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic

from .infusions import infusion_started


def record(clinic: Clinic, totals_and_days: list[tuple[int, int]]) -> list[Administration]:
    """GAD-7 administrations with the given totals, ``days`` ago each."""
    made = []
    for total, days in totals_and_days:
        answers = {str(n): 0 for n in range(1, 8)}
        left = total
        for n in range(1, 8):
            answers[str(n)] = min(3, left)
            left -= answers[str(n)]
        made.append(
            administration_record(
                acting_user=clinic.users["ben"],
                patient=clinic.pat,
                instrument_code="gad7",
                answers=answers,
                administered_at=timezone.now() - timedelta(days=days),
            )
        )
    return made


def chart_data(html: str) -> list[dict[str, Any]]:
    found = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    data: list[dict[str, Any]] = json.loads(found.group(1))
    return data


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_infusion_times_are_the_starts_of_real_infusions(
    clinic: Clinic, django_assert_num_queries: Any
) -> None:
    first = infusion_started(clinic, timezone.now() - timedelta(days=15))
    second = infusion_started(clinic, timezone.now() - timedelta(days=8), course=first.course)
    session_make(clinic, start=timezone.now() + timedelta(days=3))  # booked, not started
    cancelled = session_make(clinic, start=timezone.now() - timedelta(days=1))
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)

    assert trends.infusion_times_for(clinic.pat) == [first.start, second.start]
    assert trends.infusion_times_for(clinic.quinn) == []
    with django_assert_num_queries(1):
        many = trends.infusion_times_for_many([clinic.pat.pk, clinic.quinn.pk])
    assert many == {clinic.pat.pk: [first.start, second.start]}
    # The due list asks before booked sessions too, coming ones included; never cancelled.
    with django_assert_num_queries(1):
        booked = trends.session_times_for_many([clinic.pat.pk, clinic.quinn.pk])
    assert len(booked[clinic.pat.pk]) == 3
    assert cancelled.start not in booked[clinic.pat.pk]


def test_the_trends_page_draws_totals_bands_and_thresholds(clinic: Clinic) -> None:
    record(clinic, [(16, 20), (12, 10), (6, 3)])
    first = infusion_started(clinic, timezone.now() - timedelta(days=15))
    second = infusion_started(clinic, timezone.now() - timedelta(days=8), course=first.course)

    response = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chart-gad7"' in html
    (gad7,) = chart_data(html)
    assert [point["y"] for point in gad7["points"]] == [16, 12, 6]
    bands = instruments.get("gad7").bands
    assert gad7["bands"] == [{"low": b.low, "high": b.high, "label": b.label} for b in bands]
    assert gad7["infusions"] == [_ms(first.start), _ms(second.start)]
    # Baseline: the last score before the first infusion (16); response at 16 x (1 - 50%).
    assert gad7["response"]["value"] == 8.0
    assert gad7["remission"] == {"value": 5, "label": "Remission < 5"}
    assert "Baseline 16" in html


def test_a_new_course_takes_its_baseline_before_its_own_first_infusion(clinic: Clinic) -> None:
    record(clinic, [(18, 70), (14, 20), (6, 5)])
    first_course = infusion_started(clinic, timezone.now() - timedelta(days=60))
    infusion_started(clinic, timezone.now() - timedelta(days=50), course=first_course.course)
    second_course = infusion_started(clinic, timezone.now() - timedelta(days=10))
    assert second_course.course_id != first_course.course_id

    html = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/").content.decode()
    (gad7,) = chart_data(html)
    assert len(gad7["infusions"]) == 3  # every infusion is marked
    assert "Baseline 14" in html  # the last score before the second course's first infusion
    assert gad7["response"]["value"] == 7.0


def test_booked_sessions_that_did_not_start_give_no_baseline(clinic: Clinic) -> None:
    record(clinic, [(10, 5)])
    session_make(clinic, start=timezone.now() - timedelta(days=2))  # booked, never started
    html = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/").content.decode()
    (gad7,) = chart_data(html)
    assert gad7["infusions"] == []
    assert gad7["response"] is None
    assert "No baseline yet" in html


def test_without_infusions_there_is_no_baseline_and_no_response_line(clinic: Clinic) -> None:
    record(clinic, [(10, 5)])
    html = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/").content.decode()
    (gad7,) = chart_data(html)
    assert gad7["response"] is None
    assert gad7["infusions"] == []
    assert "No baseline yet" in html


@pytest.mark.parametrize(
    ("baseline", "expected"), [(20, Decimal("10")), (15, Decimal("7.5")), (0, None), (None, None)]
)
def test_response_threshold_is_baseline_times_one_minus_the_percent(
    baseline: int | None, expected: Decimal | None
) -> None:
    assert trends.response_threshold(instruments.get("phq9"), baseline) == expected


def test_reading_the_trends_is_audited(clinic: Clinic) -> None:
    made = record(clinic, [(8, 2), (4, 1)])
    before = AuditEvent.objects.filter(action="R").count()
    clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/")
    reads = AuditEvent.objects.filter(action="R", object_type="Administration")
    assert {e.object_id for e in reads} == {str(a.pk) for a in made}
    assert AuditEvent.objects.filter(action="R").count() > before
    assert {e.actor_id for e in reads} == {clinic.users["ada"].pk}


def test_item_answers_come_on_demand_as_an_htmx_partial(clinic: Clinic) -> None:
    (administration,) = record(clinic, [(9, 1)])
    url = f"/scales/patients/{clinic.pat.pk}/administrations/{administration.pk}/"
    page = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/")
    assert f'hx-get="{url}"' in page.content.decode()

    partial = clinic.client("ada").get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in html
    assert "1. Feeling nervous, anxious, or on edge" in html
    assert "Nearly every day" in html
    assert AuditEvent.objects.filter(
        action="R", object_type="Administration", object_id=str(administration.pk)
    ).exists()
    full = clinic.client("ada").get(url)
    assert "<html" in full.content.decode()


def test_another_patients_administration_is_not_found(clinic: Clinic) -> None:
    (administration,) = record(clinic, [(9, 1)])
    url = f"/scales/patients/{clinic.quinn.pk}/administrations/{administration.pk}/"
    assert clinic.client("ada").get(url).status_code == 404
    own = f"/scales/patients/{clinic.pat.pk}/administrations/{administration.pk}/"
    assert clinic.client("quinn").get(own).status_code == 404


def test_a_patient_sees_their_own_trends_in_the_portal_not_on_the_staff_page(
    clinic: Clinic,
) -> None:
    record(clinic, [(9, 1)])
    assert clinic.client("pat").get(f"/scales/patients/{clinic.pat.pk}/trends/").status_code == 404
    assert clinic.client("pat").get("/portal/scores/").status_code == 200
    other = clinic.client("quinn").get(f"/scales/patients/{clinic.pat.pk}/trends/")
    assert other.status_code == 404


def test_the_page_prints_without_navigation(clinic: Clinic) -> None:
    record(clinic, [(9, 1)])
    html = clinic.client("ada").get(f"/scales/patients/{clinic.pat.pk}/trends/").content.decode()
    assert "scales.css" in html
    assert "<script>" not in html and " style=" not in html  # CSP: no inline script or style
    css = (Path(trends.__file__).parent.parent / "static/css/scales.css").read_text()
    assert "@media print" in css and ".no-print" in css
