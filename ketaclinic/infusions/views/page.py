"""The session chart page: the chart's steps under headings in chart order, the next one first,
each shown only in the states where it applies and to the roles that may take it; then the
record so far. A step's view renders this page again with its bound form when the input is
wrong (422) or the chart's rules refuse it (409), so that the reasons show beside the form.

Which step is next and where a form shows is presentation only: the services decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.infusions import services
from ketaclinic.infusions.forms import (
    AddendumForm,
    AlertAcknowledgeForm,
    AssessmentForm,
    ClinicianReviewForm,
    ConfirmForm,
    DischargeForm,
    DoseForm,
    DrawExceptionForm,
    InfusionEventForm,
    PreChecksForm,
    SecondCheckForm,
    SideEffectForm,
    StepForm,
    StopForm,
    VitalsForm,
)
from ketaclinic.infusions.models import (
    ChartEntry,
    ChartEntryKind,
    DoseCheck,
    Session,
    SessionAlert,
    SessionStatus,
    VitalsReading,
)
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.infusions.selectors import monitor_batch, session_get_for_user, vitals_chart_data
from ketaclinic.infusions.snapshot import rems_form, rems_minutes, session_snapshot
from ketaclinic.patients.selectors import patient_open_flags

S = SessionStatus
BEFORE_START = (S.SCHEDULED, S.CHECKED_IN)
CHARTING = (S.CHECKED_IN, S.INFUSING, S.RECOVERY)


def session_or_404(
    request: HttpRequest, session_id: UUID, permission: str = "session.view", audit: bool = True
) -> Session:
    try:
        return session_get_for_user(request.user, session_id, permission=permission, audit=audit)
    except Session.DoesNotExist:
        raise Http404 from None


def refused_page(
    request: HttpRequest, session: Session, exc: services.ChartRefused
) -> HttpResponse:
    """A write the chart's rules refuse in the session's present state: 409, every reason."""
    return render(
        request,
        "infusions/refused.html",
        {"session": session, "reasons": exc.reasons},
        status=409,
    )


@dataclass(frozen=True)
class StepSpec:
    key: str
    title: str
    group: str
    permission: str
    """What the service requires; the form shows only to roles that hold it."""
    form_key: str
    """Steps that share a form (baseline and later vital signs) share this key."""
    doer: str
    """Who may take the step, for those who may not."""


NURSE_OR_CLINICIAN = "a nurse or a clinician"
STEPS = (
    StepSpec("check_in", "Check-in", "Arrival", "session.chart", "check_in", NURSE_OR_CLINICIAN),
    StepSpec(
        "prechecks",
        "Pre-checks",
        "Before the start",
        "session.chart",
        "prechecks",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec(
        "baseline_vitals",
        "Baseline vital signs",
        "Before the start",
        "session.chart",
        "vitals",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec(
        "review",
        "Clinician review of the pre-dose hold",
        "Before the start",
        "session.override",
        "review",
        "a clinician",
    ),
    StepSpec("dose", "Dose calculation", "Dose", "session.chart", "dose", NURSE_OR_CLINICIAN),
    StepSpec(
        "second_check",
        "Second check of the dose",
        "Dose",
        "session.chart",
        "second_check",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec("draw", "Ketamine draw from the ledger", "Dose", "session.chart", "draw", "a nurse"),
    StepSpec(
        "draw_exception",
        "Start without a ledger draw",
        "Dose",
        "session.override",
        "draw_exception",
        "a clinician",
    ),
    StepSpec(
        "start", "Start the infusion", "Infusion", "session.chart", "start", NURSE_OR_CLINICIAN
    ),
    StepSpec(
        "infusion_event",
        "Rate change, pause or resume",
        "Infusion",
        "session.chart",
        "infusion_event",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec("stop", "Stop the infusion", "Infusion", "session.chart", "stop", NURSE_OR_CLINICIAN),
    StepSpec("vitals", "Vital signs", "Monitoring", "session.chart", "vitals", NURSE_OR_CLINICIAN),
    StepSpec(
        "side_effect",
        "Side effect or intervention",
        "Monitoring",
        "session.chart",
        "side_effect",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec(
        "assessment",
        "Dissociation or sedation assessment",
        "Monitoring",
        "session.chart",
        "assessment",
        NURSE_OR_CLINICIAN,
    ),
    StepSpec(
        "discharge", "Discharge", "Discharge", "session.chart", "discharge", NURSE_OR_CLINICIAN
    ),
    StepSpec(
        "sign", "Sign the session record", "Signatures", "session.sign", "sign", NURSE_OR_CLINICIAN
    ),
    StepSpec(
        "addendum", "Addendum", "After signing", "session.chart", "addendum", NURSE_OR_CLINICIAN
    ),
)
SPECS = {spec.key: spec for spec in STEPS}


def _empty_form(form_key: str) -> StepForm:
    classes: dict[str, type[StepForm]] = {
        "prechecks": PreChecksForm,
        "vitals": VitalsForm,
        "review": ClinicianReviewForm,
        "dose": DoseForm,
        "draw_exception": DrawExceptionForm,
        "second_check": SecondCheckForm,
        "infusion_event": InfusionEventForm,
        "stop": StopForm,
        "side_effect": SideEffectForm,
        "assessment": AssessmentForm,
        "discharge": DischargeForm,
        "addendum": AddendumForm,
    }
    form_class = classes.get(form_key)
    return ConfirmForm(step=form_key) if form_class is None else form_class()


@dataclass(frozen=True)
class ChartFacts:
    """What the page needs to know to place the steps, read once per page."""

    status: str
    prechecks_problems: list[str]
    """The recorded pre-checks' gaps; "not recorded" when there are none."""
    baseline: VitalsReading | None
    hold: bool
    """The latest baseline holds the dose for a clinician's review (the protocol's rule)."""
    hold_reviewed: bool
    dose: DoseCheck | None
    start_problems: list[str]
    draws: list[services.SessionDraw]
    """The session's draws from the ketamine ledger."""
    draw_exception: ChartEntry | None
    """A clinician's reason to start without a ledger draw."""
    draw_problems: list[str]
    """Before the start: what the draws lack for the latest dose."""
    paused: bool
    stopped_at: Any


def _latest(session: Session, kind: ChartEntryKind) -> ChartEntry | None:
    return session.chart_entries.filter(kind=kind).order_by("-at", "-pk").first()


def chart_facts(session: Session) -> ChartFacts:
    status = str(session.status)
    now = timezone.now()
    protocol = services.session_protocol(session)
    prechecks = _latest(session, ChartEntryKind.PRECHECKS)
    problems = services.prechecks_problems(
        services.entry_data(prechecks) if prechecks else None, protocol=protocol, at=now
    )
    hold = (
        services.predose_hold_state(session, protocol=protocol) if status == S.CHECKED_IN else None
    )
    stop = _latest(session, ChartEntryKind.INFUSION_STOP) if status == S.RECOVERY else None
    dose = (
        session.doses.select_related("calculated_by", "second_checked_by")
        .order_by("-calculated_at", "-pk")
        .first()
    )
    checked_in_with_dose = status == S.CHECKED_IN and dose is not None
    return ChartFacts(
        status=status,
        prechecks_problems=problems,
        baseline=hold.baseline if hold else None,
        hold=bool(hold and hold.hold),
        hold_reviewed=bool(hold and hold.reviewed),
        dose=dose,
        start_problems=services.start_problems(session, at=now) if status == S.CHECKED_IN else [],
        draws=services.session_draws_list(session),
        draw_exception=services.draw_exception(session),
        draw_problems=services.dose_draw_problems(session, dose)
        if checked_in_with_dose and dose is not None
        else [],
        paused=status == S.INFUSING and services.infusion_paused(session),
        stopped_at=stop.at if stop else None,
    )


def _applies(key: str, facts: ChartFacts) -> bool:
    status = facts.status
    unchecked = facts.dose is not None and facts.dose.second_checked_by_id is None
    rules = {
        "check_in": status == S.SCHEDULED,
        "prechecks": status == S.CHECKED_IN,
        "baseline_vitals": status == S.CHECKED_IN,
        "review": status == S.CHECKED_IN and facts.hold,
        "dose": status in BEFORE_START,
        "second_check": status in BEFORE_START and unchecked,
        "draw": status == S.CHECKED_IN and facts.dose is not None and bool(facts.draw_problems),
        "draw_exception": status == S.CHECKED_IN
        and facts.dose is not None
        and facts.draw_exception is None
        and bool(facts.draw_problems),
        "start": status == S.CHECKED_IN,
        "infusion_event": status == S.INFUSING,
        "stop": status == S.INFUSING,
        "vitals": status in (S.INFUSING, S.RECOVERY),
        "side_effect": status in CHARTING,
        "assessment": status in CHARTING,
        "discharge": status == S.RECOVERY,
        "sign": status == S.DISCHARGED,
        "addendum": status == S.SIGNED,
    }
    return rules[key]


def next_step_key(facts: ChartFacts) -> str | None:
    """The step that moves the chart on, in chart order (None once signed)."""
    status = facts.status
    if status == S.CHECKED_IN:
        if facts.prechecks_problems:
            return "prechecks"
        if facts.baseline is None:
            return "baseline_vitals"
        if facts.hold and not facts.hold_reviewed:
            return "review"
        if facts.dose is None:
            return "dose"
        if facts.dose.second_checked_by_id is None:
            return "second_check"
        if facts.draw_problems:
            return "draw"
        return "start"
    following = {
        S.SCHEDULED: "check_in",
        S.INFUSING: "stop",
        S.RECOVERY: "discharge",
        S.DISCHARGED: "sign",
    }
    return following.get(S(status))


@dataclass(frozen=True)
class Step:
    spec: StepSpec
    form: StepForm
    allowed: bool
    shown: bool

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def doer(self) -> str:
        return self.spec.doer

    @property
    def template(self) -> str:
        name = "vitals" if self.spec.form_key == "vitals" else self.spec.key
        return f"infusions/steps/_{name}.html"


def chart_steps(
    user: Any, facts: ChartFacts, bound: dict[str, StepForm]
) -> tuple[Step | None, list[tuple[str, list[Step]]]]:
    """The next step, and the other steps to show, grouped in chart order. A form that comes
    back with errors is shown even where its step no longer applies, once."""
    steps: list[Step] = []
    for spec in STEPS:
        allowed = user_can(user, spec.permission)
        applies = _applies(spec.key, facts)
        form = bound.get(spec.form_key) or _empty_form(spec.form_key)
        steps.append(Step(spec, form, allowed, allowed and applies))
    for form_key in bound:
        sharing = [s for s in steps if s.spec.form_key == form_key]
        if sharing and not any(s.shown for s in sharing):
            first = sharing[0]
            steps[steps.index(first)] = Step(first.spec, first.form, first.allowed, True)
    key = next_step_key(facts)
    next_step = next((s for s in steps if s.key == key), None)
    groups: dict[str, list[Step]] = {}
    for step in steps:
        if step.shown and step is not next_step:
            groups.setdefault(step.spec.group, []).append(step)
    return next_step, list(groups.items())


@dataclass(frozen=True)
class AlertRow:
    """An alert as the chart lists it, with the form that acknowledges it while it is open."""

    alert: SessionAlert
    form: AlertAcknowledgeForm
    needs_note: bool


def alert_rows(
    session: Session, bound: dict[int, AlertAcknowledgeForm] | None = None
) -> list[AlertRow]:
    """The session's alerts, open ones first, each newest first."""
    bound = bound or {}
    alerts = session.alerts.select_related("acknowledged_by").order_by("-raised_at", "-pk")
    rows = [
        AlertRow(
            alert=alert,
            form=bound.get(alert.pk) or AlertAcknowledgeForm(alert_id=alert.pk),
            needs_note=alert.needs_note,
        )
        for alert in alerts
    ]
    return sorted(rows, key=lambda row: row.alert.acknowledged_at is not None)


def chart_render(
    request: HttpRequest,
    session: Session,
    *,
    bound: dict[str, StepForm] | None = None,
    alert_forms: dict[int, AlertAcknowledgeForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    snapshot = session_snapshot(session)
    record = getattr(session, "signed_record", None) if session.status == S.SIGNED else None
    facts = chart_facts(session)
    next_step, groups = chart_steps(request.user, facts, bound or {})
    protocol = services.session_protocol(session)
    context = {
        "session": session,
        "patient": session.course.patient,
        "flags": patient_open_flags(session.course.patient),
        "snapshot": snapshot,
        "chart_data": vitals_chart_data(session, snapshot),
        "alerts": alert_rows(session, alert_forms),
        "open_alerts": services.open_alert_problems(session)
        if session.status == S.DISCHARGED
        else [],
        "addenda": session.addenda.select_related("author"),
        "record": record,
        "verified": services.signed_record_verify(session) if record else None,
        "rems": rems_form(snapshot, bp_after_dose_minutes=rems_minutes(protocol))
        if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG
        else None,
        "can_chart": user_can(request.user, "session.chart"),
        "can_override": user_can(request.user, "session.override"),
        "facts": facts,
        "next_step": next_step,
        "step_groups": groups,
        "check_in_opens": session.start - services.CHECK_IN_EARLIEST,
        "discharge_gate": protocol.discharge,
        "monitor_batch": monitor_batch(session),
    }
    return render(request, "infusions/chart.html", context, status=status)


def step_form_applies(form_key: str, facts: ChartFacts) -> bool:
    """Whether a step using this form applies in the session's present state."""
    return any(_applies(spec.key, facts) for spec in STEPS if spec.form_key == form_key)
