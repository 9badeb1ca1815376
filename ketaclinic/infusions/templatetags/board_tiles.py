"""The chair board's tiles, written in Python with exactly the HTML of the template loop they
replace (the reference: ``infusions/_board_tiles_loop.html``, with ``_vitals_brief.html``;
``infusions/tests/test_board_tiles.py`` renders both and compares them byte for byte).

Why: each tile is some thirty variable lookups, two or three links reversed, numbers and
times formatted and an include through the template engine, the board's largest share of
its own time; the board is polled every few seconds by every screen that shows it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.template.defaultfilters import time as time_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from ketaclinic.lib.form_renderer import escape_text, shown_text

register = template.Library()

STATE_WORDS = {
    "empty": "Empty",
    "booked": "Free; booked next",
    "checked_in": "Checked in",
    "infusing": "Infusing",
    "recovery": "Recovery",
}


_shown = shown_text  # as {{ value }} (lib/form_renderer.py)


def _hm(at: Any) -> str:
    """As ``{{ at|time:"H:i" }}``."""
    return escape_text(time_filter(template_localtime(at), "H:i"))


def _brief(v: Any) -> str:
    """As ``{% include "infusions/_vitals_brief.html" %}`` (with the file's final newline)."""
    out = []
    if v.systolic_mmhg is not None:
        diastolic = "—" if v.diastolic_mmhg is None else _shown(v.diastolic_mmhg)
        out.append(f"BP {_shown(v.systolic_mmhg)}/{diastolic}, ")
    if v.heart_rate_bpm is not None:
        out.append(f"HR {_shown(v.heart_rate_bpm)}, ")
    if v.spo2_percent is not None:
        out.append(f"SpO2 {_shown(v.spo2_percent)}%, ")
    if v.respiratory_rate is not None:
        out.append(f"RR {_shown(v.respiratory_rate)}")
    if v.moaas is not None:
        out.append(f", MOAA/S {_shown(v.moaas)}")
    source = " · from monitor" if v.source == "monitor" else ""
    out.append(f" <small>at {_hm(v.at)}{source}</small>\n")
    return "".join(out)


def _name(session: Any) -> str:
    patient = session.course.patient
    return f"{_shown(patient.family_name)}, {_shown(patient.given_name)}"


def _drug(session: Any) -> str:
    protocol = session.course.protocol
    return f"{_shown(protocol.medication)} {_shown(protocol.route)}"


def board_tile(tile: Any) -> str:
    """One tile of the loop (``{% with s=tile.session row=tile.row %}`` ... ``{% endwith %}``)."""
    s = tile.session
    row = tile.row
    state = tile.state
    chair = tile.chair
    alerts = tile.alerts
    data_session = f' data-session="{_shown(row.session.pk)}"' if row else ""
    out = [
        f'\n<article role="listitem" class="chair-tile tile-{_shown(state)}'
        f'{" has-alert" if alerts else ""}" aria-labelledby="chair-{_shown(chair.pk)}"'
        f"{data_session}"
        f' data-chair="{_shown(chair.name)}">\n'
        f'  <h2 id="chair-{_shown(chair.pk)}">{_shown(chair.name)} '
        f'<span class="tile-state">{STATE_WORDS.get(state, "")}</span></h2>\n  ',
    ]
    if row:
        chart = escape_text(reverse("infusions:chart", args=[s.pk]))
        out.append(f'\n  <p class="who"><a href="{chart}">{_name(s)}</a></p>\n')
        dose = tile.dose
        if dose:
            rate = dose.rate_ml_per_h
            at_rate = f" at {floatformat(rate, '-1')} mL/h" if rate else ""
            dosed = f" · <strong>{floatformat(dose.dose_mg, '-1')} mg</strong>{at_rate}"
        else:
            dosed = " · dose not calculated"
        out.append(f"  <p>{_drug(s)}{dosed}</p>\n  ")
        if state == "infusing":
            left = (
                f'<span class="big">{_shown(tile.minutes_left)} min left</span> · '
                if tile.minutes_left is not None
                else ""
            )
            out.append(f"<p>{left}infusing {_shown(row.minutes_infusing)} min</p>\n  ")
        elif state == "recovery":
            if tile.discharge_ready:
                ready = (
                    '<span class="ready">Observation time met</span>: ready for the discharge check'
                )
            else:
                until = escape_text(date_filter(template_localtime(tile.discharge_from), "H:i"))
                ready = f'<span class="not-ready">Observe until {until}</span>'
            out.append(f"<p>{ready} · recovery {_shown(tile.recovery_minutes)} min</p>\n  ")
        elif state == "checked_in":
            out.append("<p>Arrived; pre-dose steps in progress.</p>")
        out.append("\n  <p>")
        out.append(_brief(row.last_vitals) if row.last_vitals else "No vital signs yet.")
        out.append("\n  ")
        if row.next_vitals_due:
            overdue = ("overdue", " (overdue)") if row.overdue else ("", "")
            out.append(
                f'<br>Next vitals <span class="{overdue[0]}">'
                f"{_hm(row.next_vitals_due)}{overdue[1]}</span>"
            )
        out.append("</p>\n  ")
        alert = tile.worst_alert
        if alert:
            n = len(alerts)
            more = tile.more_alerts
            plural = "" if n == 1 else "s"
            also = f" <small>(+{more} more on the chart)</small>" if more else ""
            out.append(
                '\n  <div class="tile-alert" role="alert">\n'
                f"    <strong>{n} open alert{plural}.</strong> {_shown(alert.message)}{also}\n    "
            )
            if alert.needs_note or more:
                anchor = f"{chart}#alert-{_shown(alert.pk)}"
                out.append(f'<br><a href="{anchor}">Open the chart to act</a>\n    ')
            else:
                acknowledge = escape_text(
                    reverse("infusions:alert_acknowledge", args=[s.pk, alert.pk])
                )
                out.append(
                    f'<br><button type="button" class="outline" hx-post="{acknowledge}" '
                    'hx-target="#board-rows" hx-swap="innerHTML">Acknowledge</button>'
                )
            out.append("\n  </div>\n  ")
        out.append("\n  ")
    elif not tile.booked_next:
        out.append("\n  <p>No one booked for the rest of today.</p>\n  ")
    out.append("\n  ")
    nxt = tile.booked_next
    if nxt:
        out.append(
            '<p class="booked-next">Next: '
            f'<a href="{escape_text(reverse("infusions:chart", args=[nxt.pk]))}">{_name(nxt)}</a>'
            f" at <strong>{_hm(nxt.start)}</strong>, {_drug(nxt)}</p>"
        )
    out.append("\n</article>\n")
    return "".join(out)


@register.simple_tag
def board_tiles(tiles: Iterable[Any]) -> SafeString:
    """As ``infusions/_board_tiles_loop.html``: every chair's tile, or that there are none."""
    written = [board_tile(tile) for tile in tiles]
    if not written:
        return mark_safe("\n<p>No chairs are set up yet.</p>\n")
    return mark_safe("".join(written))  # noqa: S308 (escaped above)
