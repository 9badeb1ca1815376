"""Pages of the outcomes app: the clinic's outcomes (figures, charts, published comparison),
a CSV of each of its tables, and the recomputation. Thin: the form shapes the filters, the
selectors compute and audit."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.access import require, user_can
from ketaclinic.outcomes.charts import km_svg, trajectory_svg
from ketaclinic.outcomes.export import ExportRefused, research_export
from ketaclinic.outcomes.forms import OutcomeFilterForm
from ketaclinic.outcomes.models import ExportMode, PublicFigure, ResearchExport
from ketaclinic.outcomes.publishing import figure_approve, figure_choose, figures_public
from ketaclinic.outcomes.selectors import RATE_KEYS, ClinicFigures, clinic_outcomes
from ketaclinic.outcomes.services import outcomes_current, outcomes_refresh
from ketaclinic.outcomes.tracking import check_infusion, curves_overview, flag_counts


def _figures(request: HttpRequest) -> tuple[OutcomeFilterForm, ClinicFigures]:
    require(request.user, "outcomes.view")
    form = OutcomeFilterForm(request.GET or None)
    outcomes_current(acting_user=request.user)  # the patients changed since: recomputed first
    return form, clinic_outcomes(request.user, form.filters())


@login_required
@require_GET
def clinic(request: HttpRequest) -> HttpResponse:
    form, figures = _figures(request)
    cell_rows = [
        (cell, [(label, cell.rate(key)) for key, label in RATE_KEYS]) for cell in figures.cells
    ]
    total = figures.cells[0] if figures.cells else None
    headline = [] if total is None else [(label, total.rate(key)) for key, label in RATE_KEYS[:2]]
    context: dict[str, Any] = {
        "form": form,
        "figures": figures,
        "cell_rows": cell_rows,
        "headline": headline,
        "headline_label": "no courses" if total is None else total.label.lower(),
        "trajectory_chart": trajectory_svg(figures.trajectory, measure_name=figures.measure.name),
        "km_chart": km_svg(figures.km),
        "query": request.GET.urlencode(),
        "can_refresh": user_can(request.user, "outcomes.refresh"),
        "curves": [c for c in curves_overview() if c.measure == figures.measure.code],
        "disorder_labels": {code: d.label for code, d in figures.definitions.disorders.items()},
        "check_infusion": check_infusion(),
        "flag_counts": flag_counts(),
    }
    return render(request, "outcomes/clinic.html", context)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _dose_table(figures: ClinicFigures) -> list[list[Any]]:
    """Peak BP rise and peak dissociation by mg/kg dose band: one row per band and figure, each
    with the sessions in the band and how many had the figure (its denominator)."""
    safety = figures.safety
    rows: list[list[Any]] = [
        [
            "dose_band",
            "figure",
            "sessions",
            "with_figure",
            "q1",
            "median",
            "q3",
            "max",
            "definition",
        ]
    ]
    for band in safety.by_dose:
        spreads = [
            ("Systolic peak rise over baseline (mmHg)", band.systolic_rise),
            ("Diastolic peak rise over baseline (mmHg)", band.diastolic_rise),
        ] + [(f"Peak {label}", band.dissociation[code]) for code, label in safety.dissociation]
        for name, spread in spreads:
            rows.append(
                [
                    band.label,
                    name,
                    band.sessions,
                    spread.n,
                    spread.q1,
                    spread.median,
                    spread.q3,
                    spread.maximum,
                    safety.definitions.label,
                ]
            )
    return rows


def _table(figures: ClinicFigures, table: str) -> list[list[Any]]:
    label = figures.definitions.label
    if table == "rates":
        rows: list[list[Any]] = [
            [
                "disorder",
                "measure",
                "timepoint",
                "outcome",
                "count",
                "started",
                "with_data",
                "missing",
                "completers_percent",
                "completers_ci_low",
                "completers_ci_high",
                "itt_percent",
                "itt_ci_low",
                "itt_ci_high",
                "definition",
            ]
        ]
        for cell in figures.cells:
            pairs = [(lbl, cell.rate(key)) for key, lbl in RATE_KEYS]
            pairs.append(("Recovery (cases at start)", cell.recovery))
            for outcome, rate in pairs:
                cc, ic = rate.completers_ci, rate.itt_ci
                rows.append(
                    [
                        cell.label,
                        figures.measure.name,
                        figures.timepoint_label,
                        outcome,
                        rate.count,
                        rate.started,
                        rate.with_data,
                        rate.missing,
                        _pct(rate.completers),
                        _pct(None if cc is None else cc.low * 100),
                        _pct(None if cc is None else cc.high * 100),
                        _pct(rate.itt),
                        _pct(None if ic is None else ic.low * 100),
                        _pct(None if ic is None else ic.high * 100),
                        label,
                    ]
                )
        return rows
    if table == "trajectory":
        rows = [["infusion", "n", "q1", "median", "q3", "measure", "definition"]]
        rows += [
            [p.infusion or "baseline", p.n, p.q1, p.median, p.q3, figures.measure.name, label]
            for p in figures.trajectory
        ]
        return rows
    if table == "durability":
        rows = [["days_since_response", "at_risk", "lost_response", "censored", "still_responding"]]
        rows += [[s.time, s.at_risk, s.events, s.censored, f"{s.survival:.4f}"] for s in figures.km]
        return rows
    if table == "safety":
        rows = [["kind", "count", "denominator", "denominator_counts", "per_100", "definition"]]
        safety = figures.safety
        rows += [
            [
                r.kind,
                r.count,
                r.denominator,
                r.denominator_text,
                r.per_100,
                safety.definitions.label,
            ]
            for r in safety.rows
        ]
        return rows
    if table == "safety_by_dose":
        return _dose_table(figures)
    if table == "published":
        rows = [
            [
                "study",
                "citation",
                "measure",
                "timepoint_matched",
                "definition",
                "response_percent",
                "remission_percent",
                "treated",
                "analysable",
                "differences",
            ]
        ]
        rows += [
            [
                c.figure.study,
                c.figure.citation,
                c.figure.measure,
                c.timepoint_matched,
                c.figure.definition,
                c.figure.response_percent,
                c.figure.remission_percent,
                c.figure.treated,
                c.figure.analysable,
                " ".join(c.notes),
            ]
            for c in figures.comparisons
        ]
        return rows
    raise Http404


@login_required
@require_GET
def clinic_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in {"rates", "trajectory", "durability", "safety", "safety_by_dose", "published"}:
        raise Http404
    _, figures = _figures(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{table}.csv"'
    writer = csv.writer(response)
    for row in _table(figures, table):
        writer.writerow(row)
    return response


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    require(request.user, "outcomes.refresh")
    run = outcomes_refresh(acting_user=request.user)
    messages.success(request, f"Outcomes recomputed: {run.courses} courses.")
    return redirect("outcomes:clinic")


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The research export (administrator): the form and past exports (GET); the file (POST)."""
    require(request.user, "research.export")
    error = ""
    if request.method == "POST":
        try:
            exported = research_export(
                acting_user=request.user,
                mode=request.POST.get("mode", ""),
                file_format=request.POST.get("file_format", ""),
                dua_reference=request.POST.get("dua_reference", ""),
            )
        except ExportRefused as exc:
            error = str(exc)
        else:
            response = HttpResponse(exported.content, content_type=exported.content_type)
            response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
            return response
    context = {
        "modes": ExportMode.choices,
        "exports": ResearchExport.objects.select_related("created_by")[:20],
        "error": error,
    }
    return render(request, "outcomes/export.html", context, status=422 if error else 200)


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """The clinic's approved figures for anyone: every rate with its denominator, the missing,
    the definition, the period and the published comparison; small cells suppressed."""
    return render(request, "outcomes/public.html", {"figures": figures_public()})


@login_required
def publish(request: HttpRequest) -> HttpResponse:
    """The administrator chooses figures to publish (POST); clinicians approve them."""
    if not (
        user_can(request.user, "outcomes.publish") or user_can(request.user, "outcomes.approve")
    ):
        require(request.user, "outcomes.publish")
    if request.method == "POST":
        form = OutcomeFilterForm(request.POST)
        filters = form.filters()
        figure_choose(
            acting_user=request.user,
            measure=filters.measure,
            timepoint=filters.timepoint,
            disorder=filters.disorder,
        )
        messages.success(request, "Figure chosen; a clinician must approve it before it shows.")
        return redirect("outcomes:publish")
    context = {
        "form": OutcomeFilterForm(),
        "figures": PublicFigure.objects.filter(withdrawn=False),
        "can_choose": user_can(request.user, "outcomes.publish"),
        "can_approve": user_can(request.user, "outcomes.approve"),
    }
    return render(request, "outcomes/publish.html", context)


@login_required
@require_POST
def publish_approve(request: HttpRequest, figure_id: int) -> HttpResponse:
    require(request.user, "outcomes.approve")
    try:
        figure_approve(acting_user=request.user, figure_id=figure_id)
    except PublicFigure.DoesNotExist:
        raise Http404 from None
    messages.success(request, "Approved: the figure now shows on the public site.")
    return redirect("outcomes:publish")
