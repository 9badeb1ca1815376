"""The chair board's tiles are written in Python (``infusions/templatetags/board_tiles.py``);
the template loop they replace (``infusions/_board_tiles_loop.html``) stays as the reference
and must give the same bytes: every tile of the demo day, and each tile again with odd names,
no dose or no rate, several alerts (one needing a note or not), readings with missing values
or from a monitor, overdue vitals, discharge ready or not, a booking next; in three zones."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.infusions.models import DoseCheck, SessionAlert, VitalsReading
from ketaclinic.infusions.selectors import ChairTile, chair_tiles
from ketaclinic.infusions.templatetags.board_tiles import board_tiles

ZONES = ("UTC", "America/New_York", "Asia/Kolkata")


def _odd_session(session: Any) -> Any:
    session = copy.copy(session)
    course, patient = copy.copy(session.course), copy.copy(session.course.patient)
    protocol = copy.copy(course.protocol)
    patient.family_name, patient.given_name = "O'Brien <b>", 'Zoë "&"'
    protocol.medication, protocol.route = "ketamine <racemic>", "IV & IM"
    course.patient, course.protocol, session.course = patient, protocol, course
    return session


def _variants(tiles: list[ChairTile]) -> list[ChairTile]:
    now = timezone.now()
    note = SessionAlert(pk=7, message="SpO2 <90% & falling", raised_at=now, actions="stop")
    plain = SessionAlert(pk=8, message="HR 121 > 120", raised_at=now, actions="recheck")
    readings = [
        VitalsReading(at=now, systolic_mmhg=None, diastolic_mmhg=None, heart_rate_bpm=80),
        VitalsReading(
            at=now,
            systolic_mmhg=131,
            diastolic_mmhg=None,
            heart_rate_bpm=None,
            spo2_percent=97,
            respiratory_rate=14,
            moaas=4,
            source="monitor",
        ),
    ]
    doses = [
        None,
        DoseCheck(dose_mg=Decimal("35.5000"), rate_ml_per_h=None),
        DoseCheck(dose_mg=Decimal("40.0000"), rate_ml_per_h=Decimal("120.2500")),
    ]
    out = list(tiles)
    booked = next((t.booked_next for t in tiles if t.booked_next is not None), None)
    for tile in tiles:
        if tile.row is None:
            continue
        odd = replace(tile.row, session=_odd_session(tile.row.session))
        for n, reading in enumerate(readings):
            row = replace(
                odd,
                last_vitals=reading,
                next_vitals_due=now + timedelta(minutes=n),
                overdue=n == 0,
            )
            for alerts in ([note], [plain], [plain, note, plain], []):
                for dose in doses:
                    out.append(
                        replace(
                            tile,
                            row=row,
                            alerts=alerts,
                            dose=dose,
                            minutes_left=None if dose is None else 12,
                            recovery_minutes=33,
                            discharge_from=now + timedelta(minutes=5),
                            discharge_ready=dose is None,
                            booked_next=booked and _odd_session(booked),
                        )
                    )
        out.append(replace(tile, row=replace(odd, last_vitals=None, next_vitals_due=None)))
    return out


def test_the_board_tiles_are_the_templates_bytes(db: Any) -> None:
    call_command("demo", stdout=StringIO())
    tiles = chair_tiles(User.objects.get(username="ben"), audit=False)
    assert {tile.state for tile in tiles} >= {"infusing", "recovery", "checked_in", "booked"}
    variants = _variants(tiles)
    for zone in ZONES:
        with timezone.override(zone):
            for shown in (tiles, variants, []):
                reference = render_to_string("infusions/_board_tiles_loop.html", {"tiles": shown})
                assert board_tiles(shown) + "\n" == reference, (zone, len(shown))
    html = board_tiles(variants)
    assert "Acknowledge</button>" in html and "Open the chart to act" in html
    assert (
        "O&#x27;Brien &lt;b&gt;" in html
        and "<strong>35.5 mg</strong>" in html
        and "from monitor" in html
    )
