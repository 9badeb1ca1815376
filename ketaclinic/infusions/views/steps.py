"""The chart's steps as page forms, each calling its service: check-in, pre-checks and the
clinician's review of a pre-dose hold, the dose and its second check, a clinician's exception
to the ledger draw, the infusion (start,
rate change, pause, resume, stop), vital signs, side effects and assessments, discharge,
signing and addenda.

Each answers as the chart page: bad input shows the page again with the errors beside the
fields (422); a refusal by the chart's rules shows its reasons beside the form (409), or on the
refused page when the step does not apply in the session's state (a signed session refuses
every write but an addendum); a role the service refuses is the app's 403. Nothing is stored
unless the service accepts it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.infusions import services
from ketaclinic.infusions.forms import (
    AddendumForm,
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
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.selectors import prechecks_known
from ketaclinic.infusions.views.page import (
    chart_facts,
    chart_render,
    refused_page,
    session_or_404,
    step_form_applies,
)
from ketaclinic.lib.forms import service_errors_onto

Write = Callable[[Session, StepForm], str]
"""Calls the step's service with the form's cleaned data; the message to show on success."""


def _page_again(
    request: HttpRequest, session: Session, form: StepForm, status: int
) -> HttpResponse:
    # The page shows the patient's chart again: read (and audited) as the chart page reads it.
    fresh = session_or_404(request, session.pk)
    return chart_render(request, fresh, bound={form.step: form}, status=status)


def _refusal(
    request: HttpRequest, session: Session, form: StepForm, exc: services.ChartRefused
) -> HttpResponse:
    fresh = session_or_404(request, session.pk, audit=False)
    if isinstance(exc, services.SessionFrozen) or not step_form_applies(
        form.step, chart_facts(fresh, request.user)
    ):
        return refused_page(request, fresh, exc)
    for reason in exc.reasons:
        form.add_error(None, reason)
    return _page_again(request, fresh, form, status=409)


def _take_step(
    request: HttpRequest,
    session_id: UUID,
    form: StepForm,
    write: Write,
    *,
    permission: str = "session.chart",
) -> HttpResponse:
    session = session_or_404(request, session_id, permission, audit=False)
    if form.is_valid():
        try:
            message = write(session, form)
        except services.ChartRefused as exc:
            return _refusal(request, session, form, exc)
        except ValidationError as exc:
            service_errors_onto(form, exc, getattr(form, "SERVICE_NAMES", {}))
        else:
            messages.success(request, message)
            return redirect("infusions:chart", session_id=session.pk)
    return _page_again(request, session, form, status=422)


def _rounded(value: Decimal | None, quantum: Decimal) -> str:
    # As the protocol rounds (a database may hand back more decimal places than were stored).
    return "—" if value is None else str(value.quantize(quantum))


@login_required
@require_POST
def check_in(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        services.session_check_in(acting_user=request.user, session=session)
        return "Checked in."

    return _take_step(request, session_id, ConfirmForm(request.POST, step="check_in"), write)


@login_required
@require_POST
def prechecks(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        assert isinstance(form, PreChecksForm)
        # "Consent current" is what the consent app knows, not a tick (see prechecks_known).
        known = prechecks_known(session, at=timezone.now())
        entry = services.prechecks_record(
            acting_user=request.user,
            session=session,
            checks=form.checks(consent_current=not known.consent_missing),
        )
        problems = services.prechecks_problems(
            services.entry_data(entry), protocol=services.session_protocol(session), at=entry.at
        ) + services.questionnaire_problems(session, at=entry.at)
        for problem in problems:
            messages.warning(request, problem)
        return "Pre-checks recorded." + (" Still open: see below." if problems else "")

    return _take_step(request, session_id, PreChecksForm(request.POST), write)


@login_required
@require_POST
def clinician_review(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        services.clinician_review_record(
            acting_user=request.user, session=session, reason=form.cleaned_data["reason"]
        )
        return "Review recorded: the dose may go ahead."

    return _take_step(
        request, session_id, ClinicianReviewForm(request.POST), write, permission="session.override"
    )


@login_required
@require_POST
def dose(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        data = form.cleaned_data
        checked = services.dose_calculate_record(
            acting_user=request.user,
            session=session,
            weight_kg=data["weight_kg"],
            concentration_mg_per_ml=data["concentration_mg_per_ml"],
            bag_volume_ml=data["bag_volume_ml"],
            override_reason=data["override_reason"],
        )
        rounding = services.session_protocol(session).dosing.rounding
        text = (
            f"Dose calculated: {_rounded(checked.dose_mg, rounding.dose_mg)} mg = "
            f"{_rounded(checked.drug_volume_ml, rounding.volume_ml)} mL"
        )
        if checked.rate_ml_per_h is not None:
            text += (
                f" at {_rounded(checked.rate_ml_per_h, rounding.rate_ml_per_h)} mL/h"
                f" over {checked.infusion_minutes} min"
            )
        return text + ". A second staff member checks it next."

    return _take_step(request, session_id, DoseForm(request.POST), write)


@login_required
@require_POST
def second_check(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        data = form.cleaned_data
        checked = services.dose_second_check(
            acting_user=request.user,
            session=session,
            username=data["username"],
            password=data["password"],
            totp=data["totp"],
            request=request,
        )
        return f"Second check by {checked.second_checked_by} recorded."

    return _take_step(request, session_id, SecondCheckForm(request.POST), write)


@login_required
@require_POST
def draw_exception(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        services.draw_exception_record(
            acting_user=request.user, session=session, reason=form.cleaned_data["reason"]
        )
        return "Recorded: the dose may start without a ledger draw."

    return _take_step(
        request,
        session_id,
        DrawExceptionForm(request.POST),
        write,
        permission="session.override",
    )


@login_required
@require_POST
def start(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        services.infusion_start(acting_user=request.user, session=session)
        return "Infusion started."

    return _take_step(request, session_id, ConfirmForm(request.POST, step="start"), write)


INFUSION_EVENT_DONE = {
    "rate_change": "Rate change recorded.",
    "pause": "Infusion paused.",
    "resume": "Infusion resumed.",
}


@login_required
@require_POST
def infusion_event(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        data = form.cleaned_data
        services.infusion_event_record(
            acting_user=request.user,
            session=session,
            action=data["action"],
            reason=data["reason"],
            rate_ml_per_h=data["rate_ml_per_h"],
        )
        return INFUSION_EVENT_DONE[data["action"]]

    return _take_step(request, session_id, InfusionEventForm(request.POST), write)


@login_required
@require_POST
def stop(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        stopped = services.infusion_stop(
            acting_user=request.user,
            session=session,
            administered_volume_ml=form.cleaned_data["administered_volume_ml"],
            reason=form.cleaned_data["reason"],
        )
        mg = stopped.administered_mg
        given = "—" if mg is None else format(mg.normalize(), "f")
        return f"Infusion stopped; {given} mg given. Recovery observation has begun."

    return _take_step(request, session_id, StopForm(request.POST), write)


@login_required
@require_POST
def vitals_add(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        data = form.cleaned_data
        recorded = services.vitals_record(
            acting_user=request.user,
            session=session,
            vitals=services.VitalsIn(
                at=timezone.now(),
                systolic_mmhg=data["systolic"],
                diastolic_mmhg=data["diastolic"],
                heart_rate_bpm=data["heart_rate"],
                spo2_percent=data["spo2"],
                respiratory_rate=data["resp_rate"],
                moaas=data["moaas"],
            ),
            idempotency_key=request.POST.get("idempotency_key", "")[:100],
        )
        for alert in recorded.alerts:
            messages.warning(request, f"{alert.message} ({alert.recommended_action})")
        return "Vital signs recorded."

    return _take_step(request, session_id, VitalsForm(request.POST), write)


@login_required
@require_POST
def side_effect(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        assert isinstance(form, SideEffectForm)
        data = form.cleaned_data
        services.side_effect_record(
            acting_user=request.user,
            session=session,
            at=form.moment(),
            effect=data["effect"],
            severity=data["severity"],
            intervention=data["intervention"],
            drug=data["drug"],
            drug_dose=data["drug_dose"],
            note=data["note"],
        )
        return "Side effect recorded."

    return _take_step(request, session_id, SideEffectForm(request.POST), write)


@login_required
@require_POST
def assessment(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        assert isinstance(form, AssessmentForm)
        services.assessment_record(
            acting_user=request.user,
            session=session,
            at=form.moment(),
            instrument=form.cleaned_data["instrument"],
            score=form.cleaned_data["score"],
        )
        return "Assessment recorded."

    return _take_step(request, session_id, AssessmentForm(request.POST), write)


@login_required
@require_POST
def discharge(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        data = form.cleaned_data
        services.session_discharge(
            acting_user=request.user,
            session=session,
            aldrete=data["aldrete"],
            escort_present=data["escort_present"],
            instructions_given=data["instructions_given"],
            override_reason=data["override_reason"],
        )
        overridden = " with a clinician's override" if data["override_reason"].strip() else ""
        return f"Discharged{overridden}. Nurse and clinician sign the record next."

    return _take_step(request, session_id, DischargeForm(request.POST), write)


@login_required
@require_POST
def sign(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        signed = services.session_sign(acting_user=request.user, session=session)
        if signed.status == "signed":
            return "Signed; the record is frozen."
        return "Signature recorded."

    return _take_step(
        request,
        session_id,
        ConfirmForm(request.POST, step="sign"),
        write,
        permission="session.sign",
    )


@login_required
@require_POST
def addendum_add(request: HttpRequest, session_id: UUID) -> HttpResponse:
    def write(session: Session, form: StepForm) -> str:
        services.addendum_add(
            acting_user=request.user, session=session, text=form.cleaned_data["text"]
        )
        return "Addendum added beside the signed record."

    return _take_step(request, session_id, AddendumForm(request.POST), write)
