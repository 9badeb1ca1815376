"""Server-side SVG charts for the clinic outcomes page (no script needed; the tables beside
them hold the same numbers). Only numbers and fixed words go into the markup."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ketaclinic.outcomes.rules.stats import KMStep
from ketaclinic.outcomes.selectors import TrajectoryPoint

W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 40


def _x(value: float, top: float) -> float:
    return LEFT + (W - LEFT - RIGHT) * (value / top if top else 0)


def _y(value: float, top: float) -> float:
    return H - BOTTOM - (H - TOP - BOTTOM) * (value / top if top else 0)


def _axes(x_top: float, y_top: float, x_label: str, y_label: str, y_ticks: Sequence[float]) -> str:
    parts = [
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" class="axis"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" class="axis"/>',
        f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text x="12" y="{(TOP + H - BOTTOM) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(TOP + H - BOTTOM) / 2:.0f})">{escape(y_label)}</text>',
    ]
    for tick in y_ticks:
        y = _y(tick, y_top)
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    return "".join(parts)


def trajectory_svg(points: Sequence[TrajectoryPoint], *, measure_name: str) -> SafeString:
    """Median score (line) and quartiles (band) at baseline and after each infusion."""
    usable = [p for p in points if p.median is not None and p.q1 is not None and p.q3 is not None]
    if not usable:
        return mark_safe("")
    x_top = max(max(p.infusion for p in usable), 1)
    y_top = max(max(float(p.q3 or 0) for p in usable), 1.0) * 1.1
    step = 5 if y_top <= 40 else 20
    ticks = [float(t) for t in range(0, int(y_top) + 1, step)]
    band_top = " ".join(f"{_x(p.infusion, x_top):.1f},{_y(p.q3 or 0, y_top):.1f}" for p in usable)
    band_bottom = " ".join(
        f"{_x(p.infusion, x_top):.1f},{_y(p.q1 or 0, y_top):.1f}" for p in reversed(usable)
    )
    line = " ".join(f"{_x(p.infusion, x_top):.1f},{_y(p.median or 0, y_top):.1f}" for p in usable)
    x_labels = "".join(
        f'<text x="{_x(p.infusion, x_top):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
        f"{'B' if p.infusion == 0 else p.infusion}</text>"
        for p in usable
    )
    dots = "".join(
        f'<circle cx="{_x(p.infusion, x_top):.1f}" cy="{_y(p.median or 0, y_top):.1f}" r="3"/>'
        for p in usable
    )
    svg = (
        f'<svg viewBox="0 0 {W} {H}" role="img" class="outcome-chart" '
        f'aria-label="{escape(measure_name)} median and quartiles by infusion number; '
        'the table has the same values">'
        + _axes(x_top, y_top, "Infusion number (B = baseline)", escape(measure_name), ticks)
        + f'<polygon points="{band_top} {band_bottom}" class="band"/>'
        + f'<polyline points="{line}" class="median"/>'
        + dots
        + x_labels
        + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308  numbers and escaped fixed words only


def km_svg(steps: Sequence[KMStep]) -> SafeString:
    """The Kaplan-Meier step curve of still responding, in days since response."""
    if not steps:
        return mark_safe("")
    x_top = max(max(s.time for s in steps), 1.0)
    points = [f"{_x(0, x_top):.1f},{_y(1, 1):.1f}"]
    survival = 1.0
    for s in steps:
        points.append(f"{_x(s.time, x_top):.1f},{_y(survival, 1):.1f}")
        survival = s.survival
        points.append(f"{_x(s.time, x_top):.1f},{_y(survival, 1):.1f}")
    censor = "".join(
        f'<line x1="{_x(s.time, x_top):.1f}" y1="{_y(s.survival, 1) - 5:.1f}" '
        f'x2="{_x(s.time, x_top):.1f}" y2="{_y(s.survival, 1) + 5:.1f}" class="censor"/>'
        for s in steps
        if s.censored
    )
    x_ticks = "".join(
        f'<text x="{_x(t, x_top):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{t:g}</text>'
        for t in range(0, int(x_top) + 1, max(7, int(x_top) // 8 // 7 * 7 or 7))
    )
    svg = (
        f'<svg viewBox="0 0 {W} {H}" role="img" class="outcome-chart" '
        'aria-label="Share still responding by days since response (Kaplan-Meier); '
        'the table has the same values">'
        + _axes(x_top, 1.0, "Days since response", "Still responding", [0, 0.25, 0.5, 0.75, 1])
        + f'<polyline points="{" ".join(points)}" class="median"/>'
        + censor
        + x_ticks
        + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308  numbers and escaped fixed words only
