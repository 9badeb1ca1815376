"""The vital-signs graph of the printed record, drawn with fpdf2's lines (no image, no
plotting library): the same panels as the chart page (`rules.vitals_panels`), one per scale,
the protocol's thresholds dashed, times as 24-hour clinic-zone clock times."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from fpdf import FPDF

COLOURS = {
    "systolic_mmhg": (198, 40, 40),
    "diastolic_mmhg": (230, 81, 0),
    "heart_rate_bpm": (21, 101, 192),
    "spo2_percent": (46, 125, 50),
    "respiratory_rate": (106, 27, 154),
    "moaas": (66, 66, 66),
}
PANEL_H = 38.0
LABEL_W = 10.0
GAP = 6.0


def _clock(ms: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone).strftime("%H:%M")


def draw_vitals_graph(pdf: FPDF, data: dict[str, Any], zone: tzinfo) -> None:
    """Two panels a row, from `selectors.vitals_chart_data`; starts a page if it does not fit."""
    panels = data["panels"]
    width = (pdf.epw - GAP) / 2
    rows = (len(panels) + 1) // 2
    needed = rows * (PANEL_H + 17)
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    x_min, x_max, step = data["x_min"], data["x_max"], data["x_step"]
    for index, panel in enumerate(panels):
        left = pdf.l_margin + (index % 2) * (width + GAP)
        y = top + (index // 2) * (PANEL_H + 17)
        _panel(pdf, panel, data["events"], left, y, width, (x_min, x_max, step), zone)
    pdf.set_y(top + needed)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_text_color(0, 0, 0)


def _panel(
    pdf: FPDF,
    panel: dict[str, Any],
    events: list[dict[str, Any]],
    left: float,
    top: float,
    width: float,
    axis: tuple[int, int, int],
    zone: tzinfo,
) -> None:
    x_min, x_max, step = axis
    y_min, y_max = int(panel["y_min"]), int(panel["y_max"])
    plot_left, plot_top = left + LABEL_W, top + 8
    plot_w, plot_h = width - LABEL_W, PANEL_H

    def px(ms: float) -> float:
        return plot_left + (ms - x_min) / (x_max - x_min) * plot_w

    def py(value: float) -> float:
        return plot_top + plot_h - (value - y_min) / (y_max - y_min) * plot_h

    pdf.set_font("Helvetica", "B", 8)
    pdf.set_text_color(0, 0, 0)
    pdf.text(left, top + 3, f"{panel['title']} ({panel['unit']})")
    pdf.set_font("Helvetica", "", 6)
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.rect(plot_left, plot_top, plot_w, plot_h)
    for value in (y_min, (y_min + y_max) // 2, y_max):
        pdf.text(left, py(value) + 1, str(value))
    tick = x_min
    while tick <= x_max:
        pdf.line(px(tick), plot_top + plot_h, px(tick), plot_top + plot_h + 1)
        pdf.text(px(tick) - 3, plot_top + plot_h + 4, _clock(tick, zone))
        tick += step
    for event in events:
        pdf.set_draw_color(120, 120, 120)
        pdf.line(px(event["x"]), plot_top, px(event["x"]), plot_top + plot_h)
    for line in panel["thresholds"]:
        r, g, b = COLOURS.get(line["field"], (0, 0, 0))
        pdf.set_draw_color(r, g, b)
        pdf.set_dash_pattern(dash=0.6 if line["predose"] else 1.5, gap=1)
        pdf.line(plot_left, py(line["value"]), plot_left + plot_w, py(line["value"]))
        pdf.set_dash_pattern()
    # The key: each series in its colour; dashed lines are alerts, dotted ones pre-dose holds.
    key_x = plot_left + plot_w
    for series in reversed(panel["series"]):
        r, g, b = COLOURS.get(series["field"], (0, 0, 0))
        pdf.set_text_color(r, g, b)
        label = str(series["label"])
        key_x -= pdf.get_string_width(label) + 2
        pdf.text(key_x, top + 6.5, label)
    pdf.set_text_color(0, 0, 0)
    for series in panel["series"]:
        r, g, b = COLOURS.get(series["field"], (0, 0, 0))
        pdf.set_draw_color(r, g, b)
        pdf.set_fill_color(r, g, b)
        pdf.set_line_width(0.4)
        points = [(px(p["x"]), py(p["y"])) for p in series["points"]]
        if len(points) > 1:
            pdf.polyline(points)
        for x, y in points:
            pdf.circle(x=x, y=y, radius=0.6, style="F")
        pdf.set_line_width(0.2)
    if not panel["count"]:
        pdf.set_text_color(90, 90, 90)
        pdf.text(plot_left + 2, plot_top + plot_h / 2, "no readings")
        pdf.set_text_color(0, 0, 0)
