"""The chart's vital-signs rows, history and open alerts written in Python
(templatetags/session_tables.py) are the template loops they replace, byte for byte: manual and
monitor readings (confirmed by a person, automatically, or not yet), missing values, text that
needs escaping, empty lists, and a time zone away from UTC; alerts with and without a note, a
note with errors, a signed record, a viewer who does not chart. The alerts' reference is the
chart's loop as it was, kept in ``chart_alert_loop.txt``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from django.template import Context, Template
from django.utils import timezone

from ketaclinic.infusions.forms import AlertAcknowledgeForm
from ketaclinic.infusions.models import Session, SessionAlert, SessionStatus
from ketaclinic.infusions.rules.history import HistoryLine, history_lines
from ketaclinic.infusions.views.page import AlertRow

# The chart's loops as they were in infusions/chart.html (the reference).
VITALS_LOOP = Template(
    "{% for v in vitals %}\n"
    '      {% include "infusions/_vitals_row.html" %}\n'
    '    {% empty %}<tr><td colspan="8">None yet.</td></tr>{% endfor %}'
)
HISTORY_LOOP = Template(
    "{% load clinic_time %}{% for line in history %}\n"
    '  <li class="history-{{ line.kind }}"><span class="mono">'
    '{{ line.at|clinic_time|slice:"11:19" }}</span> {{ line.text }}'
    "{% if line.by %} <small>({{ line.by }})</small>{% endif %}</li>\n"
    "{% empty %}<li>Nothing charted yet.</li>{% endfor %}"
)
VITALS_TAG = Template("{% load session_tables %}{% vitals_rows vitals %}")
HISTORY_TAG = Template("{% load session_tables %}{% history_items history %}")


def _reading(**changes: Any) -> dict[str, Any]:
    reading: dict[str, Any] = {
        "at": "2026-11-24T14:05:09.000000Z",
        "phase": SessionStatus.INFUSING,
        "systolic_mmhg": 128,
        "diastolic_mmhg": 81,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate": 14,
        "moaas": 5,
        "by": "nurse.ben",
        "source": "manual",
        "device": "",
        "confirmed_by": None,
        "confirmed_at": None,
    }
    reading.update(changes)
    return reading


READINGS = [
    _reading(),
    _reading(phase=SessionStatus.CHECKED_IN, diastolic_mmhg=None, moaas=None),
    _reading(phase="recovery", systolic_mmhg=None, spo2_percent=None, by="<b>o'neil</b> & co"),
    _reading(phase="infusing", source="monitor", device='Mon "A" <1>', by=None),
    _reading(source="monitor", device="M2", confirmed_by="ben & ada"),
    _reading(source="monitor", device="M2", confirmed_at="2026-11-24T14:06:00.000000Z"),
    _reading(heart_rate_bpm=1234567, respiratory_rate=12.5),
    {"at": "2026-11-24T23:59:59.000000Z"},  # keys missing: read as "" by the template
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Los_Angeles"])
@pytest.mark.parametrize("vitals", [READINGS, READINGS[:1], []], ids=["all", "one", "none"])
def test_the_python_vitals_rows_are_the_templates(zone: str, vitals: list[Any]) -> None:
    with timezone.override(zone):
        reference = VITALS_LOOP.render(Context({"vitals": vitals}))
        written = VITALS_TAG.render(Context({"vitals": vitals}))
    assert written == reference
    assert vitals == [] or 'class="from-monitor"' not in written or "&lt;1&gt;" in written


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_the_python_history_is_the_templates(zone: str) -> None:
    snapshot = {
        "entries": [],
        "vitals": READINGS[:7],
        "alerts": [],
        "signatures": [{"at": "2026-11-24T15:00:00.000000Z", "by": "ada", "role": "nurse"}],
    }
    lines = [
        *history_lines(snapshot),
        HistoryLine("2026-11-24T16:00:00.000000Z", "", 'A <note> & "more"', "entry"),
        HistoryLine("", "x", "no time", "alert"),
    ]
    with timezone.override(zone):
        for history in (lines, []):
            reference = HISTORY_LOOP.render(Context({"history": history}))
            written = HISTORY_TAG.render(Context({"history": history}))
            assert written == reference
    assert "&lt;note&gt;" in HISTORY_TAG.render(Context({"history": lines}))


ALERTS_LOOP = Template(Path(__file__).with_name("chart_alert_loop.txt").read_text())
ALERTS_TAG = Template("{% load session_tables %}    {% open_alert_items open_alert_rows %}")


def _alert_rows() -> list[AlertRow]:
    raised = datetime(2026, 11, 24, 14, 5, 9, tzinfo=UTC)
    alerts = [
        SessionAlert(
            pk=3,
            field="spo2_percent",
            value=89,
            comparator="<",
            threshold=90,
            actions="stop,call",
            message="SpO2 below 90%: stop & call <the prescriber>",
            source='Protocol "A", p. 3',
            raised_at=raised,
        ),
        SessionAlert(
            pk=4,
            field="heart_rate_bpm",
            value=121,
            comparator=">",
            threshold=120,
            actions="recheck",
            message="Heart rate high",
            source="Protocol",
            raised_at=raised,
        ),
    ]
    bound = AlertAcknowledgeForm({"note": "<b>x</b>"}, alert_id=3)
    bound.is_valid()
    bound.add_error("note", "Say what was done & why <now>")
    return [
        AlertRow(alert=alerts[0], form=bound, needs_note=alerts[0].needs_note),
        AlertRow(alert=alerts[0], form=AlertAcknowledgeForm(alert_id=3), needs_note=True),
        AlertRow(alert=alerts[1], form=AlertAcknowledgeForm(alert_id=4), needs_note=False),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("status", ["infusing", "signed"])
@pytest.mark.parametrize("can_chart", [True, False])
@pytest.mark.parametrize("token", ["tok<en>", None])
def test_the_python_alerts_are_the_templates(
    zone: str, status: str, can_chart: bool, token: str | None
) -> None:
    session = Session(pk=UUID("0b3f1c9e-8a51-4c47-9a36-7d2a4e6f1b20"), status=status)
    for rows in (_alert_rows(), []):
        values = {
            "open_alert_rows": rows,
            "session": session,
            "can_chart": can_chart,
            "csrf_token": token,
        }
        with timezone.override(zone):
            reference = ALERTS_LOOP.render(Context(values))
            written = ALERTS_TAG.render(Context(values))
        assert written == reference
    assert rows == [] or "&lt;the prescriber&gt;" in written
