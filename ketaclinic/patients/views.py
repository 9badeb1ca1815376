from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require, staff_page_only, user_can
from ketaclinic.patients import selectors, services
from ketaclinic.patients.forms import FlagAcknowledgeForm, PatientForm
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.portal.selectors import portal_status
from ketaclinic.portal.services.invitations import may_invite


def _patient_or_404(request: HttpRequest, patient_id: UUID, *, audit: bool = True) -> Patient:
    try:
        return selectors.patient_get_for_user(request.user, patient_id, audit=audit)
    except Patient.DoesNotExist:
        raise Http404 from None


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "patient.view_any")  # a staff page; a patient has the portal
    # The search is POSTed so that a patient's name never lands in a URL or an access log. The
    # pager's buttons POST the search again with the page number; without a search, ?page=N.
    query = request.POST.get("q", "")[:100] if request.method == "POST" else ""
    number = (request.POST if request.method == "POST" else request.GET).get("page", "1")[:10]
    page = selectors.patient_page_for_user(request.user, query, number)
    context = {
        "page": page,
        "patients": page.object_list,
        "rows": selectors.patient_rows(list(page.object_list)),
        "q": query,
        "can_create": user_can(request.user, "patient.create"),
    }
    partial = "patients/_results.html"
    template = partial if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, context)


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "patient.create")
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Patient record created.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": None})


def _detail_context(
    request: HttpRequest, patient: Patient, *, failed: tuple[int, FlagAcknowledgeForm] | None = None
) -> dict[str, object]:
    can_acknowledge = user_can(request.user, "flag.acknowledge")
    # The notes are the care team's: a patient reading their record sees the open flags only.
    flags, acknowledged = selectors.patient_flags(
        patient, acknowledged=user_can(request.user, "patient.view_any")
    )
    forms = {flag.pk: FlagAcknowledgeForm(auto_id=f"ack-{flag.pk}-%s") for flag in flags}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return {
        "patient": patient,
        "flags": flags,
        "flag_rows": [(flag, forms[flag.pk]) for flag in flags],
        "acknowledged_flags": acknowledged,
        "can_acknowledge": can_acknowledge,
        "can_edit": user_can(request.user, "patient.change"),
        "summary": selectors.patient_summary(patient),
        "can_view_sessions": user_can(request.user, "session.view"),
        "can_view_audit": user_can(request.user, "audit.view"),
        "portal": portal_status(patient),
        "can_invite": may_invite(request.user),
    }


@login_required
def patient_detail(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    staff_page_only(request.user)
    patient = _patient_or_404(request, patient_id)
    return render(request, "patients/detail.html", _detail_context(request, patient))


@login_required
@require_POST
def flag_acknowledge(request: HttpRequest, patient_id: UUID, flag_id: int) -> HttpResponse:
    """A clinician acknowledges a safety flag with a note; the flag is kept (audited, U)."""
    require(request.user, "flag.acknowledge")
    patient = _patient_or_404(request, patient_id, audit=False)
    try:
        flag = SafetyFlag.objects.get(patient=patient, pk=flag_id)
    except SafetyFlag.DoesNotExist:
        raise Http404 from None
    form = FlagAcknowledgeForm(request.POST, auto_id=f"ack-{flag.pk}-%s")
    if form.is_valid():
        try:
            services.safety_flag_acknowledge(
                acting_user=request.user, flag=flag, note=form.cleaned_data["note"]
            )
        except services.FlagAlreadyAcknowledged:
            messages.info(request, "This flag was already acknowledged.")
            return redirect("patients:detail", patient_id=patient.pk)
        except ValidationError as exc:
            for message in exc.message_dict.get("note", []):
                form.add_error("note", message)
        else:
            messages.success(request, "Safety flag acknowledged.")
            return redirect("patients:detail", patient_id=patient.pk)
    if flag.status != FlagStatus.ACTIVE:
        messages.info(request, "This flag was already acknowledged.")
        return redirect("patients:detail", patient_id=patient.pk)
    context = _detail_context(request, patient, failed=(flag.pk, form))
    return render(request, "patients/detail.html", context, status=422)


@login_required
def patient_edit(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _patient_or_404(request, patient_id, audit=request.method == "GET")
    require(request.user, "patient.change")
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.patient_update(acting_user=request.user, patient=patient, changes=changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Patient record saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "flags": selectors.patient_open_flags(patient)},
    )
