"""Starting a ketamine dose needs its draw from the ledger, or a clinician's reasoned exception;
the chart shows the draws with links to their containers; the signing mismatch reads as mg of
dose against mg drawn (issue 12, item 6)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.chart_models import ChartEntry, ChartEntryKind, SignedRecord
from ketaclinic.infusions.draw_rules import draw_problems
from ketaclinic.infusions.tests.chart_driver import Chart, ledger_container

pytestmark = pytest.mark.django_db

REASON = "Ledger terminal down; vial 12 drawn under Dr Ada's eye, to be entered afterwards."


def _reasons(response: Any) -> str:
    return " ".join(response.json()["reasons"])


def _observed_an_hour(chart: Chart) -> None:
    """The stop moved back an hour rather than waited for."""
    ChartEntry.objects.filter(session=chart.session, kind=ChartEntryKind.INFUSION_STOP).update(
        at=timezone.now() - timedelta(minutes=61)
    )


@pytest.mark.parametrize(
    ("dose", "drawn", "problem"),
    [
        ("36.3", None, "No ketamine draw"),
        ("36.3", "36.3", None),
        ("36.3", "40", None),
        ("36.3", "36.2", "36.2 mg drawn"),
        ("36.3", "10.0000", "10 mg drawn"),
    ],
)
def test_the_draw_rule(dose: str, drawn: str | None, problem: str | None) -> None:
    found = draw_problems(dose_mg=Decimal(dose), drawn_mg=None if drawn is None else Decimal(drawn))
    if problem is None:
        assert found == []
    else:
        assert problem in " ".join(found)
        assert "0000" not in " ".join(found)


def test_the_start_is_refused_without_a_draw(chart: Chart) -> None:
    chart.ready(draw=False)
    refused = chart.start()
    assert refused.status_code == 409
    assert "No ketamine draw" in _reasons(refused)
    assert chart.refresh().status == "checked_in"


def test_the_start_is_refused_when_the_draws_hold_less_than_the_dose(chart: Chart) -> None:
    chart.ready(draw=False)
    assert chart.draw(Decimal("1")).status_code == 201
    refused = chart.start()
    assert refused.status_code == 409
    assert "10 mg drawn" in _reasons(refused)
    assert "36.3 mg" in _reasons(refused)
    assert chart.draw(Decimal("2.63")).status_code == 201
    assert chart.start().status_code == 200


def test_the_start_records_the_draws_it_went_ahead_on(chart: Chart) -> None:
    chart.ready()
    assert chart.start().status_code == 200
    start = ChartEntry.objects.get(session=chart.session, kind=ChartEntryKind.INFUSION_START)
    data = json.loads(start.data_json)
    container = ledger_container(chart.clinic)
    assert data["draws"] == [{"container": container.pk, "ml": "3.63", "mg": "36.3"}]


def test_a_draw_exception_needs_a_clinician_and_a_reason(chart: Chart) -> None:
    chart.ready(draw=False)
    assert chart.post("/draw-exception", {"reason": REASON}).status_code == 403
    assert chart.post("/draw-exception", {"reason": ""}, who="ada").status_code == 422
    assert chart.post("/draw-exception", {"reason": "   "}, who="ada").status_code == 422
    assert not ChartEntry.objects.filter(
        session=chart.session, kind=ChartEntryKind.DRAW_EXCEPTION
    ).exists()
    done = chart.post("/draw-exception", {"reason": REASON}, who="ada")
    assert done.status_code == 201, done.content
    entry = ChartEntry.objects.get(session=chart.session, kind=ChartEntryKind.DRAW_EXCEPTION)
    assert entry.reason == REASON
    assert entry.recorded_by == chart.clinic.users["ada"]
    assert AuditEvent.objects.filter(object_type="ChartEntry", object_id=str(entry.pk)).exists()
    assert chart.start().status_code == 200


def test_the_exception_is_on_the_chart_and_in_the_signed_record(chart: Chart) -> None:
    chart.ready(draw=False)
    assert chart.post("/draw-exception", {"reason": REASON}, who="ada").status_code == 201
    assert chart.start().status_code == 200
    page = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/")
    html = page.content.decode()
    assert "Started without a ledger draw" in html
    assert "Ledger terminal down" in html
    assert chart.stop().status_code == 200
    _observed_an_hour(chart)
    assert chart.discharge().status_code == 200
    for who in ("ben", "ada"):
        assert chart.post("/sign", who=who).status_code == 200
    snapshot = json.loads(SignedRecord.objects.get(session=chart.session).snapshot_json)
    kinds = {e["kind"]: e for e in snapshot["entries"]}
    assert kinds["draw_exception"]["reason"] == REASON


def test_the_chart_shows_the_draw_and_links_to_its_container(chart: Chart) -> None:
    chart.ready()
    container = ledger_container(chart.clinic)
    html = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/").content
    text = html.decode()
    assert f'href="/ledger/containers/{container.pk}/"' in text
    assert "3.63 mL" in text
    assert "36.3 mg" in text


def test_the_page_asks_for_the_draw_before_the_start(chart: Chart) -> None:
    chart.ready(draw=False)
    text = chart.clinic.client("ben").get(f"/infusions/sessions/{chart.session.pk}/").content
    page = text.decode()
    assert "No ketamine draw" in page
    assert 'href="/ledger/"' in page


def test_the_signing_mismatch_reads_as_dose_against_draw(ledger_chart: Chart) -> None:
    """A dose started under an exception and never drawn: signing names both amounts in mg."""
    ledger_chart.ready(draw=False)
    ledger_chart.post("/draw-exception", {"reason": REASON}, who="ada")
    assert ledger_chart.start().status_code == 200
    assert ledger_chart.stop(3.2).status_code == 200
    _observed_an_hour(ledger_chart)
    assert ledger_chart.discharge().status_code == 200
    refused = ledger_chart.post("/sign")
    assert refused.status_code == 409
    reasons = _reasons(refused)
    assert "32 mg" in reasons
    assert "32.0000" not in reasons
    assert "drawn" in reasons
    assert "0 mg drawn" in reasons
