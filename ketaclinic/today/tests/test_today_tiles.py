"""The nurse's chair tiles and the clinician's list of today's sessions are written in Python
(``today/templatetags/today_tiles.py``); the templates they replace stay as the reference and
must give the same bytes, for every tile state of the demo day, odd names, alerts, holds,
overdue vitals, a next booking, and in three time zones."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.infusions.models import SessionAlert
from ketaclinic.today.selectors import nurse_day_for_user
from ketaclinic.today.selectors.sessions import ChairTile, Day, SessionFacts
from ketaclinic.today.templatetags.today_tiles import chair_tiles, day_rows, pill

ZONES = ("UTC", "America/New_York", "Asia/Kolkata")

_TILES_LOOP = (
    '{% for tile in tiles %}{% include "today/_chair_tile.html" with tile_tone=tone %}{% endfor %}'
)


def _reference_tiles(tiles: list[ChairTile], tone: str) -> str:
    return engines["django"].from_string(_TILES_LOOP).render({"tiles": tiles, "tone": tone})


def _odd(facts: SessionFacts) -> SessionFacts:
    """The same facts with a name and a protocol that need escaping, two alerts, a hold, a
    second check waiting, overdue vitals and a discharge time."""
    session = copy.copy(facts.session)
    course = copy.copy(session.course)
    patient = copy.copy(course.patient)
    protocol = copy.copy(course.protocol)
    patient.family_name, patient.given_name = "O'Brien <b>", 'Zoë "&" Ann'
    protocol.name = "Ketamine <0.5 mg/kg> & more"
    course.patient, course.protocol = patient, protocol
    session.course = course
    alert = SessionAlert(message="SpO2 <90% & falling", raised_at=timezone.now())
    row = facts.row
    if row is not None:
        row = replace(
            row,
            open_alerts=[alert, alert],
            next_vitals_due=timezone.now() - timedelta(minutes=3),
            overdue=True,
            minutes_infusing=12345,
        )
    return replace(
        facts,
        session=session,
        row=row,
        hold=True,
        hold_reasons=["Systolic 190 > 180"],
        second_check_waiting=True,
        discharge_due_at=timezone.now() + timedelta(minutes=17),
        prescriber_on_site=not facts.prescriber_on_site,
    )


def _variants(day: Day) -> list[ChairTile]:
    tiles = list(day.tiles)
    for tile in day.tiles:
        if tile.facts is not None:
            odd = _odd(tile.facts)
            tiles.append(replace(tile, facts=odd, next_facts=odd))
            tiles.append(replace(tile, next_facts=None))
            for state in ("empty", "booked", "checked-in", "infusing", "recovery"):
                tiles.append(replace(tile, state=state, facts=odd))
    return tiles


def test_the_tiles_and_the_day_list_are_the_templates_bytes(db: Any) -> None:
    call_command("demo", stdout=StringIO())
    day = nurse_day_for_user(User.objects.get(username="ben"))
    assert {tile.state for tile in day.tiles} >= {"infusing", "recovery", "checked-in", "booked"}
    tiles = _variants(day)
    facts = [*day.sessions, *(_odd(f) for f in day.sessions)]
    for zone in ZONES:
        with timezone.override(zone):
            for tone in ("", "info"):
                assert chair_tiles(tiles, tone) == _reference_tiles(tiles, tone), (zone, tone)
            reference = render_to_string("today/_day_rows.html", {"day": {"sessions": facts}})
            assert day_rows(facts) == reference, zone
    html = chair_tiles(tiles)
    assert html.count("<article") == len(tiles) and "Record vitals" in html and "Check in" in html
    assert "2 open alerts:</strong> SpO2 &lt;90% &amp; falling" in html and "Next: O&#x27;" in html
    assert "O&#x27;Brien &lt;b&gt;" in day_rows(facts)


@pytest.mark.parametrize(
    ("text", "tone"), [("yes", "ok"), ("a <b> & 'c'", "danger"), ("Free", ""), ("x", "")]
)
def test_a_pill_is_the_components_bytes(text: str, tone: str) -> None:
    reference = render_to_string("components/pill.html", {"text": text, "tone": tone})
    assert pill(text, tone) == reference


CARDS = [  # as nurse.html and clinician.html write them
    'title="Doses held for a clinician" rows=rows step="review" empty="No dose is held." '
    'reasons=True attention=True noun="held doses"',
    'title="Second checks waiting" rows=rows step="second_check" '
    'empty="No dose waits for its second check." attention=True noun="second checks"',
    'title="Discharges" rows=rows step="discharge" empty="Nobody is in recovery." '
    'noun="patients in recovery" discharge=True',
    'title="Records to sign" rows=rows step="sign" empty="Every record of today is signed by a '
    'nurse." noun="records"',
    'title="<Odd> & \'card\'" rows=rows step="x&y" empty="<none>"',
]


def test_the_session_cards_are_the_templates_bytes(db: Any) -> None:
    call_command("demo", stdout=StringIO())
    day = nurse_day_for_user(User.objects.get(username="ben"))
    lists = [
        day.holds,
        day.second_checks,
        day.discharges,
        day.to_sign_nurse,
        [],
        list(day.sessions),
        [_odd(f) for f in day.sessions],
        [
            replace(_odd(f), discharge_due_at=timezone.now() - timedelta(minutes=1))
            for f in day.sessions
        ],
    ]
    assert all(lists[:4]), "the demo day has an item in every card"
    django = engines["django"]
    for zone in ZONES:
        with timezone.override(zone):
            for card in CARDS:
                tag = django.from_string("{% load today_tiles %}{% card_sessions " + card + " %}")
                include = django.from_string(
                    '{% include "today/_card_sessions.html" with ' + card + " %}"
                )
                for rows in lists:
                    assert tag.render({"rows": rows}) == include.render({"rows": rows}), card
