"""The session chart page: the chart's steps under headings in chart order, the next one first,
each shown only in the states where it applies and to the roles that may take it; then the
record so far. A step's view renders this page again with its bound form when the input is
wrong (422) or the chart's rules refuse it (409), so that the reasons show beside the form.

Which step is next and where a form shows is presentation only: the services decide."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketaclinic.accounts.access import user_can, user_role
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
from ketaclinic.infusions.rules import history
from ketaclinic.infusions.rules import steps as step_rules
from ketaclinic.infusions.selectors import (
    KnownBeforeDose,
    infusion_timer,
    monitor_batch,
    prechecks_known,
    session_get_for_user,
    vitals_chart_data,
)
from ketaclinic.infusions.snapshot import (
    ChartRows,
    chart_rows,
    rems_form,
    rems_minutes,
    session_snapshot,
)
from ketaclinic.patients.selectors import patient_open_flags
from ketaclinic.portal.selectors import ride_for_session

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


def _empty_form(form_key: str, initial: dict[str, Any] | None = None) -> StepForm:
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
    if form_class is None:
        return ConfirmForm(step=form_key)
    return form_class(initial=initial or {})


@dataclass(frozen=True)
class ChartFacts:
    """What the page needs to know to place the steps, read once per page."""

    status: str
    prechecks_problems: list[str]
    """The recorded pre-checks' gaps; "not recorded" when there are none."""
    prechecks_recorded: bool
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
    steps: step_rules.StepFacts
    """The same, as the pure step rules read it (with who has signed and who is looking)."""


def _latest(entries: list[ChartEntry], *kinds: ChartEntryKind) -> ChartEntry | None:
    """The latest of the kinds among the chart's entries (read in time order)."""
    return next((e for e in reversed(entries) if e.kind in kinds), None)


def chart_facts(session: Session, user: Any, rows: ChartRows | None = None) -> ChartFacts:
    """From the chart's rows (`chart_rows`, read here unless the caller has them)."""
    rows = rows or chart_rows(session)
    status = str(session.status)
    now = timezone.now()
    protocol = services.session_protocol(session)
    prechecks = _latest(rows.entries, ChartEntryKind.PRECHECKS)
    problems = services.prechecks_problems(
        services.entry_data(prechecks) if prechecks else None, protocol=protocol, at=now
    )
    hold = (
        services.predose_hold_state(session, protocol=protocol) if status == S.CHECKED_IN else None
    )
    stop = _latest(rows.entries, ChartEntryKind.INFUSION_STOP) if status == S.RECOVERY else None
    dose = rows.doses[-1] if rows.doses else None
    checked_in_with_dose = status == S.CHECKED_IN and dose is not None
    draw_problems = (
        services.dose_draw_problems(session, dose)
        if checked_in_with_dose and dose is not None
        else []
    )
    exception = _latest(rows.entries, ChartEntryKind.DRAW_EXCEPTION)
    pause_or_resume = _latest(rows.entries, ChartEntryKind.PAUSE, ChartEntryKind.RESUME)
    signed_roles = (
        frozenset(str(s.role) for s in rows.signatures) if status == S.DISCHARGED else frozenset()
    )
    role = user_role(user)
    return ChartFacts(
        status=status,
        prechecks_problems=problems,
        prechecks_recorded=prechecks is not None,
        baseline=hold.baseline if hold else None,
        hold=bool(hold and hold.hold),
        hold_reviewed=bool(hold and hold.reviewed),
        dose=dose,
        start_problems=services.start_problems(session, at=now) if status == S.CHECKED_IN else [],
        draws=services.session_draws_list(session),
        draw_exception=exception,
        draw_problems=draw_problems,
        paused=status == S.INFUSING
        and pause_or_resume is not None
        and pause_or_resume.kind == ChartEntryKind.PAUSE,
        stopped_at=stop.at if stop else None,
        steps=step_rules.StepFacts(
            status=status,
            prechecks_open=bool(problems),
            baseline_recorded=bool(hold and hold.baseline is not None),
            hold=bool(hold and hold.hold),
            hold_reviewed=bool(hold and hold.reviewed),
            dose_calculated=dose is not None,
            dose_second_checked=dose is not None and dose.second_checked_by_id is not None,
            draw_missing=bool(draw_problems),
            draw_exception=exception is not None,
            signed_roles=signed_roles,
            viewer_role=None if role is None else str(role),
        ),
    )


def _applies(key: str, facts: ChartFacts) -> bool:
    return step_rules.step_applies(key, facts.steps)


def next_step_key(facts: ChartFacts) -> str | None:
    """The step that moves the chart on, in chart order (None once signed)."""
    return step_rules.next_step_key(facts.steps)


@dataclass(frozen=True)
class Step:
    spec: StepSpec
    make_form: Callable[[], StepForm] = field(repr=False, compare=False)
    allowed: bool = False
    shown: bool = False

    @functools.cached_property
    def form(self) -> StepForm:
        """Made when the page shows it: most steps do not apply in a given state."""
        return self.make_form()

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


def _form_maker(
    spec: StepSpec, bound: dict[str, StepForm], initial: dict[str, dict[str, Any]] | None
) -> Callable[[], StepForm]:
    def make() -> StepForm:
        return bound.get(spec.form_key) or _empty_form(
            spec.form_key, (initial or {}).get(spec.form_key)
        )

    return make


def steps(
    user: Any,
    facts: ChartFacts,
    bound: dict[str, StepForm],
    initial: dict[str, dict[str, Any]] | None = None,
) -> tuple[Step | None, list[tuple[str, list[Step]]]]:
    """The next step, and the other steps to show, grouped in chart order. A form that comes
    back with errors is shown even where its step no longer applies, once. Vital signs are not
    among the others: their entry stands beside the next step (`vitals_entry`)."""
    steps: list[Step] = []
    # Three permissions among seventeen steps: each checked once per page.
    can = {permission: user_can(user, permission) for permission in {s.permission for s in STEPS}}
    for spec in STEPS:
        allowed = can[spec.permission]
        applies = _applies(spec.key, facts)
        steps.append(Step(spec, _form_maker(spec, bound, initial), allowed, allowed and applies))
    for form_key in bound:
        sharing = [s for s in steps if s.spec.form_key == form_key]
        if sharing and not any(s.shown for s in sharing):
            first = sharing[0]
            steps[steps.index(first)] = Step(first.spec, first.make_form, first.allowed, True)
    key = next_step_key(facts)
    next_step = next((s for s in steps if s.key == key), None)
    groups: dict[str, list[Step]] = {}
    for step in steps:
        if step.shown and step is not next_step and step.spec.form_key != "vitals":
            groups.setdefault(step.spec.group, []).append(step)
    return next_step, list(groups.items())


def vitals_entry(
    user: Any, facts: ChartFacts, next_step: Step | None, bound: dict[str, StepForm]
) -> StepForm | None:
    """The vital-signs form that stands beside the next step whenever the session is being
    charted (None when it is itself the next step, or for roles that do not chart)."""
    if facts.status not in CHARTING or not user_can(user, "session.chart"):
        return None
    if next_step is not None and next_step.spec.form_key == "vitals":
        return None
    form = bound.get("vitals") or VitalsForm()
    if facts.status in (S.INFUSING, S.RECOVERY) and not form.is_bound:
        # Vital signs are the most frequent entry: the cursor waits in the first box, and
        # Enter in any box saves, so a set is typed without the mouse.
        form.fields["systolic"].widget.attrs["autofocus"] = True
    return form


@dataclass(frozen=True)
class AlertRow:
    """An alert as the chart lists it, with the form that acknowledges it while it is open."""

    alert: SessionAlert
    form: AlertAcknowledgeForm
    needs_note: bool

    @property
    def measured(self) -> str:
        return history.value_words(self.alert.field, self.alert.value)


def alert_rows(
    session: Session,
    bound: dict[int, AlertAcknowledgeForm] | None = None,
    alerts: list[SessionAlert] | None = None,
) -> list[AlertRow]:
    """The session's alerts (`alerts` when the caller has read them), open ones first, the
    worst (stop before pause before call) first among them, each newest first."""
    bound = bound or {}
    read = alerts if alerts is not None else chart_rows(session).alerts
    alerts = sorted(read, key=lambda a: (a.raised_at, a.pk), reverse=True)
    rows = [
        AlertRow(
            alert=alert,
            form=bound.get(alert.pk) or AlertAcknowledgeForm(alert_id=alert.pk),
            needs_note=alert.needs_note,
        )
        for alert in alerts
    ]
    return sorted(
        rows,
        key=lambda row: (
            row.alert.acknowledged_at is not None,
            history.alert_rank(row.alert.actions) if row.alert.acknowledged_at is None else 0,
        ),
    )


def chart_render(
    request: HttpRequest,
    session: Session,
    *,
    bound: dict[str, StepForm] | None = None,
    alert_forms: dict[int, AlertAcknowledgeForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    now = timezone.now()
    rows = chart_rows(session)
    snapshot = session_snapshot(session, rows)
    record = getattr(session, "signed_record", None) if session.status == S.SIGNED else None
    facts = chart_facts(session, request.user, rows)
    known = prechecks_known(session, at=now) if session.status == S.CHECKED_IN else None
    prefill = _prefill(facts, known, snapshot)
    next_step, groups = steps(request.user, facts, bound, prefill)
    protocol = services.session_protocol(session)
    alerts = alert_rows(session, alert_forms, rows.alerts)
    context = {
        "session": session,
        "patient": session.course.patient,
        "flags": patient_open_flags(session.course.patient),
        "snapshot": snapshot,
        "state_words": history.status_words(str(session.status)),
        "zone_name": timezone.localtime(now).tzname(),
        "chart_data": vitals_chart_data(session, snapshot, now=now),
        "timer": infusion_timer(snapshot, protocol, now=now),
        "latest_dose": snapshot["doses"][-1] if snapshot["doses"] else None,
        "last_vitals": snapshot["vitals"][-1] if snapshot["vitals"] else None,
        "alerts": alerts,
        "open_alert_rows": [row for row in alerts if row.alert.acknowledged_at is None],
        "open_alerts": services.open_alert_problems(session)
        if session.status == S.DISCHARGED
        else [],
        "history": history.history_lines(snapshot),
        "addenda": session.addenda.select_related("author"),
        "record": record,
        "verified": services.signed_record_verify(session) if record else None,
        "rems": rems_form(snapshot, bp_after_dose_minutes=rems_minutes(protocol))
        if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG
        else None,
        "can_chart": user_can(request.user, "session.chart"),
        "can_override": user_can(request.user, "session.override"),
        "facts": facts,
        "known": known,
        "waiting": step_rules.waiting_for(facts.steps),
        "next_step": next_step,
        "vitals_form": vitals_entry(request.user, facts, next_step, bound),
        "step_groups": groups,
        "check_in_opens": session.start - services.CHECK_IN_EARLIEST,
        "discharge_gate": protocol.discharge,
        "monitor_batch": monitor_batch(session, rows.vitals),
        # The patient's own "I have a ride home" from the portal, for check-in and pre-checks.
        "ride": ride_for_session(session) if session.status in BEFORE_START else None,
    }
    return render(request, "infusions/chart.html", context, status=status)


def _prefill(
    facts: ChartFacts, known: KnownBeforeDose | None, snapshot: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """What the forms start with, from what the system knows: the last known weight for the
    pre-checks, the pre-checks' weight for the dose (typed once), the questionnaires' state."""
    prefill: dict[str, dict[str, Any]] = {}
    if known is not None:
        pre: dict[str, Any] = {"questionnaires_done": not known.questionnaires_open}
        if known.weight_kg is not None:
            pre["weight_kg"] = known.weight_kg
            pre["weight_measured_at"] = known.weight_measured_at
        prefill["prechecks"] = pre
        if known.session_weight_kg is not None:
            prefill["dose"] = {"weight_kg": known.session_weight_kg}
    return prefill


def step_form_applies(form_key: str, facts: ChartFacts) -> bool:
    """Whether a step using this form applies in the session's present state."""
    return any(_applies(spec.key, facts) for spec in STEPS if spec.form_key == form_key)
