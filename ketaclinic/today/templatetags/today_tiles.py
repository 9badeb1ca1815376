"""The Today pages' two loops over the day's sessions, the nurse's chair tiles and the
clinician's list of today's sessions, written in Python with exactly the HTML of the
templates they replace (the reference: ``today/tests/test_today_tiles.py`` renders
``today/_chair_tile.html`` and ``today/_day_rows.html`` and compares them byte for byte).

Why: each tile and row is a dozen variable lookups, a link reversed, dates localized and two
or three ``components/pill.html`` includes through the template engine; on the nurse's and
the clinician's Today that was the largest share of the page's own template time
(bench/README.md, the page benchmark)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import time as time_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from ketaclinic.lib.form_renderer import escape_text, shown_text

register = template.Library()


def pill(text: str, tone: str = "") -> str:
    """As ``{% include "components/pill.html" with text=text tone=tone %}`` (the include keeps
    the file's final newline)."""
    toned = f" kc-pill--{escape_text(tone)}" if tone else ""
    return f'<span class="kc-pill{toned}">{escape_text(text)}</span>\n'


_shown = shown_text  # as {{ value }} (lib/form_renderer.py)


def _time(at: datetime) -> str:
    """As ``<time datetime="{{ at|date:'c' }}">{{ at|time }}</time>``."""
    local = template_localtime(at)
    iso, shown = escape_text(date_filter(local, "c")), escape_text(time_filter(local))
    return f'<time datetime="{iso}">{shown}</time>'


def _chart(session_pk: Any) -> str:
    return escape_text(reverse("infusions:chart", args=[session_pk]))


def chair_tile(tile: Any, tone: str = "") -> str:
    """As ``{% include "today/_chair_tile.html" with tile_tone=tone %}``."""
    f = tile.facts
    alerts = f.alerts if f else []
    state = tile.state
    chair = tile.chair
    out = [
        "\n",
        f'<article class="kc-tile kc-tile--{escape_text(state)}'
        f'{" kc-tile--alert" if alerts else ""}" aria-labelledby="chair-{_shown(chair.pk)}">\n',
        f'  <h3 id="chair-{_shown(chair.pk)}">{_shown(chair.name)} '
        f"{pill(tile.state_words, tone)}</h3>\n",
    ]
    if not f:
        out.append("  \n    <p>No more sessions today.</p>\n  \n</article>\n\n")
        return "".join(out)
    session = f.session
    name = _shown(f.patient_name)
    row = f.row
    out.append(f"  \n    <p><strong>{name}</strong></p>\n")
    out.append(f"    <p>{_shown(session.course.protocol.name)}</p>\n")
    out.append("    ")
    if state == "booked":
        out.append(f"<p>Booked {_time(session.start)}</p>")
    out.append("\n    ")
    if row and row.minutes_infusing is not None:
        doing = "Infusing for" if state == "infusing" else "Infused"
        out.append(f"<p>{doing} {_shown(row.minutes_infusing)} min</p>")
    out.append("\n    ")
    if alerts:
        n = len(alerts)
        out.append(
            f'<p class="kc-tile-alerts"><strong>{n} open alert{"" if n == 1 else "s"}:</strong>'
            f" {_shown(alerts[0].message)}</p>"
        )
    out.append("\n    ")
    if f.hold:
        out.append(f"<p>{pill('Dose held: clinician review', 'danger')}</p>")
    out.append("\n    ")
    if f.second_check_waiting:
        out.append(f"<p>{pill('Second check waiting', 'warn')}</p>")
    out.append("\n    ")
    if row and row.next_vitals_due:
        overdue = f" {pill('overdue', 'danger')}" if row.overdue else ""
        out.append(f"<p>Next vitals {_time(row.next_vitals_due)}{overdue}</p>")
    out.append("\n    ")
    if f.discharge_due_at:
        out.append(f"<p>Discharge from {_time(f.discharge_due_at)}</p>")
    out.append('\n    <p class="kc-tile-next">\n      ')
    chart = _chart(session.pk)
    if state in ("infusing", "recovery"):
        out.append(
            f'<a href="{chart}#step-vitals">Record vitals'
            f'<span class="visually-hidden"> for {name}</span></a>\n      '
        )
    elif state == "checked-in":
        out.append(
            f'<a href="{chart}#next-step">Open chart'
            f'<span class="visually-hidden"> for {name}</span></a>\n      '
        )
    else:
        out.append(
            f'<a href="{chart}#step-check_in">Check in'
            f'<span class="visually-hidden"> {name}</span></a>'
        )
    out.append("\n    </p>\n    ")
    nxt = tile.next_facts
    if nxt and state != "booked":
        out.append(
            f"<p><small>Next: {_shown(nxt.patient_name)} {_time(nxt.session.start)}</small></p>"
        )
    out.append("\n  \n</article>\n\n")
    return "".join(out)


@register.simple_tag
def chair_tiles(tiles: Iterable[Any], tone: str = "") -> SafeString:
    """As ``{% for tile in tiles %}{% include "today/_chair_tile.html" with tile_tone=tone %}
    {% endfor %}``."""
    return mark_safe("".join(chair_tile(tile, tone) for tile in tiles))  # noqa: S308 (escaped above)


def day_row(f: Any) -> str:
    """One row of ``today/_day_rows.html``."""
    session = f.session
    status = escape_text(session.get_status_display())
    if f.alerts:
        status += f" {pill('alert', 'danger')}"
    if f.hold:
        status += f" {pill('held', 'danger')}"
    on_site = pill("yes", "ok") if f.prescriber_on_site else pill("no", "danger")
    return (
        f'\n      <tr><td>{_time(session.start)}</td><td class="kc-nowrap">'
        f"{_shown(session.chair.name)}</td>\n"
        f'        <td><a href="{_chart(session.pk)}">{_shown(f.patient_name)}</a></td>'
        f"<td>{_shown(session.course.protocol.name)}</td>\n"
        f"        <td>{status}</td>\n"
        f"        <td>{on_site}</td></tr>\n    "
    )


@register.simple_tag
def day_rows(sessions: Iterable[Any]) -> SafeString:
    """As ``{% include "today/_day_rows.html" %}``: the clinician's list of today's sessions."""
    return mark_safe("".join(day_row(f) for f in sessions))  # noqa: S308 (escaped above)


def _count(n: int, *, attention: Any, noun: Any) -> str:
    """As ``{% include "components/count.html" with n=n %}`` inside a card (``attention`` and
    ``noun`` are the card's)."""
    flagged = " kc-count--attention" if attention and n else ""
    label = escape_text(str(noun)) if noun else "items"
    return f'<span class="kc-count{flagged}" aria-label="{n} {label}">{n}</span>\n'


def _session_line(facts: Any, step: str) -> str:
    """As ``{% include "today/_session_line.html" %}``."""
    session = facts.session
    anchor = f"#step-{escape_text(step)}" if step else ""
    return (
        f'<a href="{_chart(session.pk)}{anchor}">{_shown(facts.patient_name)}</a>\n'
        f"<span>{_shown(session.chair.name)}</span>\n"
        f"<span>{_time(session.start)}</span>\n"
    )


@register.simple_tag
def card_sessions(
    *,
    title: str,
    rows: list[Any],
    step: str,
    empty: str,
    noun: str = "",
    attention: bool = False,
    reasons: bool = False,
    discharge: bool = False,
) -> SafeString:
    """As ``{% include "today/_card_sessions.html" with title=... rows=... %}``: a card of
    the day's sessions (holds, second checks, discharges, records to sign)."""
    step_text = escape_text(step)
    out = [
        f'<article class="kc-card{" kc-card--attention" if attention and rows else ""}" '
        f'aria-labelledby="card-{step_text}">\n'
        f'  <header><h2 id="card-{step_text}">{escape_text(title)}</h2>'
        f"{_count(len(rows), attention=attention, noun=noun)}</header>\n  ",
    ]
    if not rows:
        out.append(f'<p class="kc-empty">{escape_text(empty)}</p>\n</article>\n')
        return mark_safe("".join(out))  # noqa: S308 (escaped above)
    out.append('\n  <ul class="kc-list">\n    ')
    for facts in rows:
        out.append(f"\n      <li>\n        {_session_line(facts, step)}\n        ")
        if discharge:
            if facts.discharge_due:
                out.append(pill("may be assessed for discharge", "ok"))
            else:
                out.append(f"<span>from {_time(facts.discharge_due_at)}</span>")
        out.append("\n        ")
        if reasons:
            out.extend(f"<small>{_shown(reason)}</small>" for reason in facts.hold_reasons)
        out.append("\n      </li>\n    ")
    out.append("\n  </ul>\n  \n</article>\n")
    return mark_safe("".join(out))  # noqa: S308 (escaped above)
