"""The session chart's two longest lists, the vital-signs table's rows and the history, written
in Python with exactly the HTML of the template loops they replace (the reference:
``infusions/tests/test_session_tables.py`` renders those loops, ``infusions/_vitals_row.html``
included, and compares them byte for byte); and the open alerts with their acknowledge forms.

Why: a session in recovery has a few dozen readings and as many history lines; through the
template engine each row is a dozen variable lookups, localizations and escapes, the chart's
largest share of template time (bench/README.md, the page benchmark)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from ketaclinic.lib.clinic_time import instant_local_text
from ketaclinic.lib.form_renderer import escape_text, shown_text

register = template.Library()

_MISSING = object()
DASH = "—"


_shown = shown_text  # as {{ value }} (lib/form_renderer.py)


def _get(row: Mapping[str, Any], key: str) -> Any:
    """As a template's ``row.key`` on a mapping: a missing key reads as "" (string_if_invalid)."""
    value = row.get(key, _MISSING)
    return "" if value is _MISSING else value


def _or_dash(row: Mapping[str, Any], key: str) -> str:
    """As ``{{ row.key|default_if_none:"—" }}``."""
    value = _get(row, key)
    return DASH if value is None else _shown(value)


def _phase(phase: Any) -> str:
    # Compared, not looked up: a TextChoices member hashes by its name, not its value.
    if phase == "checked_in":
        return "before the dose"
    return "infusing" if phase == "infusing" else "recovery"


def _vitals_row(v: Mapping[str, Any], zone: Any) -> str:
    """As ``infusions/_vitals_row.html``."""
    monitor = _get(v, "source") == "monitor"
    systolic = v.get("systolic_mmhg")  # in {% if %}, a missing key reads as None
    bp = f"{_shown(systolic)}/{_or_dash(v, 'diastolic_mmhg')}" if systolic is not None else DASH
    if monitor:
        if _get(v, "confirmed_by"):
            confirmed = f"confirmed by {_shown(_get(v, 'confirmed_by'))}"
        elif _get(v, "confirmed_at"):
            confirmed = "confirmed (auto)"
        else:
            confirmed = "<strong>to confirm</strong>"
        by = (
            f'<span class="pill" title="From the bedside monitor {_shown(_get(v, "device"))}">'
            f"Monitor</span> {confirmed}"
        )
    else:
        by = _shown(_get(v, "by"))
    at = escape_text(instant_local_text(_get(v, "at"), zone))
    opening = '<tr class="from-monitor">' if monitor else "<tr>"
    return (
        f"{opening}<td>{at}</td><td>{_phase(_get(v, 'phase'))}</td><td>{bp}</td>"
        f"<td>{_or_dash(v, 'heart_rate_bpm')}</td><td>{_or_dash(v, 'spo2_percent')}</td>"
        f"<td>{_or_dash(v, 'respiratory_rate')}</td><td>{_or_dash(v, 'moaas')}</td>"
        f"<td>{by}</td></tr>\n"
    )


@register.simple_tag
def vitals_rows(vitals: Iterable[Mapping[str, Any]]) -> SafeString:
    """The table's body rows, as the chart's loop over ``_vitals_row.html`` wrote them."""
    zone = timezone.get_current_timezone()
    rows = "".join(f"\n      {_vitals_row(v, zone)}\n    " for v in vitals)
    # mark_safe: every value above is escaped.
    return mark_safe(rows or '<tr><td colspan="8">None yet.</td></tr>')  # noqa: S308


@register.simple_tag
def history_items(lines: Iterable[Any]) -> SafeString:
    """The history's list items (``HistoryLine``s), times in the clinic's zone."""
    zone = timezone.get_current_timezone()
    items = []
    for line in lines:
        at = escape_text(instant_local_text(line.at, zone)[11:19])
        by = f" <small>({_shown(line.by)})</small>" if line.by else ""
        items.append(
            f'\n  <li class="history-{_shown(line.kind)}"><span class="mono">{at}</span> '
            f"{_shown(line.text)}{by}</li>\n"
        )
    # mark_safe: every value above is escaped.
    return mark_safe("".join(items) or "<li>Nothing charted yet.</li>")  # noqa: S308


def _current_app(context: template.Context) -> str | None:
    """As ``{% url %}`` finds it."""
    request: Any = getattr(context, "request", None)
    try:
        return request.current_app  # type: ignore[no-any-return]
    except AttributeError:
        try:
            return request.resolver_match.namespace  # type: ignore[no-any-return]
        except AttributeError:
            return None


def _note_field(field: Any) -> str:
    errors = field.errors
    shown_errors = (
        f'<div role="alert"><ul class="errorlist" id="{_shown(field.auto_id)}_errors">'
        + "".join(f"<li>{_shown(error)}</li>" for error in errors)
        + "</ul></div>"
        if errors
        else ""
    )
    return (
        f'\n          <div class="field">\n            <label for="{_shown(field.id_for_label)}">'
        f"{conditional_escape(field.label)}</label>{conditional_escape(field)}"
        f"\n            {shown_errors}\n          </div>"
    )


@register.simple_tag(takes_context=True)
def open_alert_items(context: template.Context, rows: Iterable[Any]) -> SafeString:
    """The open alerts' list items (``AlertRow``s), each with its acknowledge form where the
    viewer charts and the record is not signed (``can_chart``, ``session``)."""
    session: Any = context.get("session")
    acknowledges = bool(context.get("can_chart")) and _get_attr(session, "status") != "signed"
    csrf = CsrfTokenNode().render(context) if acknowledges else ""
    current_app = _current_app(context) if acknowledges else None
    items = []
    for row in rows:
        alert = row.alert
        form = ""
        if acknowledges:
            url = reverse(
                "infusions:alert_acknowledge", args=[session.pk, alert.pk], current_app=current_app
            )
            note = _note_field(row.form["note"]) if row.needs_note else ""
            form = (
                f'\n        <form method="post" action="{_shown(url)}" class="alert-ack-form">'
                f"{csrf}\n          {note}\n          "
                '<button type="submit" class="outline">Acknowledge</button>\n        </form>'
            )
        raised = date_filter(template_localtime(alert.raised_at), "H:i")
        items.append(
            f'\n      <li id="alert-{_shown(alert.pk)}" class="alert-open"><strong>'
            f"{_shown(row.measured)}</strong> at {_shown(raised)}. {_shown(alert.message)}"
            f'\n      <div class="alert-act">\n      {form}\n      <details><summary>'
            f"Protocol source</summary><small>Threshold {_shown(alert.comparator)} "
            f"{_shown(alert.threshold)}. {_shown(alert.source)}</small></details>"
            "\n      </div>\n      </li>\n    "
        )
    # mark_safe: every value above is escaped; the form field and the token are safe HTML.
    return mark_safe("".join(items))  # noqa: S308


def _get_attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, "")
