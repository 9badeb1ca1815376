"""Pages of the session chart: the chair board (polled by HTMX), a session's chart with its
vitals plot, the printable record (PDF), and the few writes a page makes. A refused write answers
409 with its reasons; a signed session refuses every write but an addendum."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import user_can
from ketaclinic.infusions import chart_services as services
from ketaclinic.infusions.chart_models import SessionAlert
from ketaclinic.infusions.chart_pdf import record_pdf_bytes
from ketaclinic.infusions.chart_selectors import (
    board_rows as board_rows_select,
)
from ketaclinic.infusions.chart_selectors import (
    session_get_for_user,
    vitals_chart_data,
)
from ketaclinic.infusions.chart_snapshot import rems_form, session_snapshot
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import INTRANASAL_ESKETAMINE_56_MG
from ketaclinic.patients.selectors import patient_open_flags

BOARD_POLL_SECONDS = 3


def _session_or_404(
    request: HttpRequest, session_id: UUID, permission: str = "session.view", audit: bool = True
) -> Session:
    try:
        return session_get_for_user(request.user, session_id, permission=permission, audit=audit)
    except Session.DoesNotExist:
        raise Http404 from None


def _refused(request: HttpRequest, session: Session, exc: services.ChartRefused) -> HttpResponse:
    return render(
        request,
        "infusions/refused.html",
        {"session": session, "reasons": exc.reasons},
        status=409,
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    rows = board_rows_select(request.user)
    return render(
        request,
        "infusions/board.html",
        {"rows": rows, "now": timezone.now(), "poll_seconds": BOARD_POLL_SECONDS},
    )


@login_required
def board_rows(request: HttpRequest) -> HttpResponse:
    # The polled refresh shows what the full page load already recorded as read; auditing
    # every poll (each few seconds per screen) would drown the trail, so it is not re-audited.
    rows = board_rows_select(request.user, audit=False)
    return render(request, "infusions/_board_rows.html", {"rows": rows, "now": timezone.now()})


class VitalsForm(forms.Form):
    systolic = forms.IntegerField(label="Systolic (mmHg)")
    diastolic = forms.IntegerField(label="Diastolic (mmHg)")
    heart_rate = forms.IntegerField(label="Heart rate (/min)")
    spo2 = forms.IntegerField(label="SpO2 (%)")
    resp_rate = forms.IntegerField(label="Respiratory rate (/min)")
    moaas = forms.IntegerField(label="MOAA/S (0-5)", required=False)


class AddendumForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, max_length=5000, label="Addendum")


@login_required
def chart(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = _session_or_404(request, session_id)
    snapshot = session_snapshot(session)
    record = getattr(session, "signed_record", None) if session.status == "signed" else None
    context = {
        "session": session,
        "patient": session.course.patient,
        "flags": patient_open_flags(session.course.patient),
        "snapshot": snapshot,
        "chart_data": vitals_chart_data(session, snapshot),
        "alerts": session.alerts.order_by("-raised_at", "-pk"),
        "addenda": session.addenda.select_related("author"),
        "record": record,
        "verified": services.signed_record_verify(session) if record else None,
        "rems": rems_form(snapshot)
        if session.course.protocol.code == INTRANASAL_ESKETAMINE_56_MG
        else None,
        "can_chart": user_can(request.user, "session.chart"),
        "can_sign": user_can(request.user, "session.sign")
        and session.status == SessionStatus.DISCHARGED,
        "vitals_form": VitalsForm(),
        "addendum_form": AddendumForm(),
    }
    return render(request, "infusions/chart.html", context)


@login_required
def record_pdf(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = _session_or_404(request, session_id)
    response = HttpResponse(record_pdf_bytes(session), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="session-{session.pk}.pdf"'
    return response


@login_required
@require_POST
def vitals_add(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = _session_or_404(request, session_id, "session.chart", audit=False)
    form = VitalsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Vital signs: every value is needed, as a whole number.")
        return redirect("infusions:chart", session_id=session.pk)
    data = form.cleaned_data
    try:
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
    except services.ChartRefused as exc:
        return _refused(request, session, exc)
    except ValidationError as exc:
        messages.error(request, "Vital signs refused: " + "; ".join(exc.messages))
        return redirect("infusions:chart", session_id=session.pk)
    for alert in recorded.alerts:
        messages.warning(request, f"{alert.message} ({alert.recommended_action})")
    messages.success(request, "Vital signs recorded.")
    return redirect("infusions:chart", session_id=session.pk)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, session_id: UUID, alert_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id, "session.chart", audit=False)
    try:
        services.alert_acknowledge(acting_user=request.user, session=session, alert_id=alert_id)
    except services.ChartRefused as exc:
        return _refused(request, session, exc)
    except SessionAlert.DoesNotExist:
        raise Http404 from None
    if request.headers.get("HX-Request"):
        rows = board_rows_select(request.user, audit=False)
        return render(request, "infusions/_board_rows.html", {"rows": rows, "now": timezone.now()})
    return redirect("infusions:chart", session_id=session.pk)


@login_required
@require_POST
def sign(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = _session_or_404(request, session_id, "session.sign", audit=False)
    try:
        signed = services.session_sign(acting_user=request.user, session=session)
    except services.ChartRefused as exc:
        return _refused(request, session, exc)
    messages.success(
        request,
        "Signed; the record is frozen." if signed.status == "signed" else "Signature recorded.",
    )
    return redirect("infusions:chart", session_id=session.pk)


@login_required
@require_POST
def addendum_add(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = _session_or_404(request, session_id, "session.chart", audit=False)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        messages.error(request, "An addendum needs text.")
        return redirect("infusions:chart", session_id=session.pk)
    try:
        services.addendum_add(
            acting_user=request.user, session=session, text=form.cleaned_data["text"]
        )
    except services.ChartRefused as exc:
        return _refused(request, session, exc)
    messages.success(request, "Addendum added beside the signed record.")
    return redirect("infusions:chart", session_id=session.pk)
