"""Pages: the administrator registers monitors and assigns them to chairs; the nurse assigns
(or dismisses) readings no session could take. Thin: services and selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import require
from ketaclinic.infusions.models import Session
from ketaclinic.infusions.services import CHARTING
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.monitors import selectors, services
from ketaclinic.monitors.forms import AssignForm, DeviceForm, DismissForm
from ketaclinic.monitors.models import MonitorDevice, MonitorMessage


@login_required
@require_http_methods(["GET", "POST"])
def devices(request: HttpRequest) -> HttpResponse:
    rows = selectors.devices_for_user(request.user)
    form = DeviceForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                device = services.device_save(acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, f"Monitor {device.name} registered.")
                return redirect("monitors:devices")
        return render(request, "monitors/devices.html", {"rows": rows, "form": form}, status=422)
    return render(request, "monitors/devices.html", {"rows": rows, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        device = selectors.device_for_user(request.user, device_id)
    except MonitorDevice.DoesNotExist:
        raise Http404 from None
    initial = {
        "name": device.name,
        "device_id": device.device_id,
        "sending_facility": device.sending_facility,
        "chair": device.chair,
        "active": device.active,
    }
    form = DeviceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.device_save(acting_user=request.user, device=device, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Monitor {device.name} saved.")
            return redirect("monitors:devices")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "monitors/device_edit.html", {"device": device, "form": form}, status=status
    )


@login_required
def unassigned(request: HttpRequest) -> HttpResponse:
    queued = selectors.unassigned_for_user(request.user)
    sessions = selectors.assignable_sessions_for_user(request.user) if queued else []
    return render(request, "monitors/unassigned.html", {"queued": queued, "sessions": sessions})


def _queued(message_id: int) -> MonitorMessage:
    try:
        return MonitorMessage.objects.get(pk=message_id)
    except MonitorMessage.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def assign(request: HttpRequest, message_id: int) -> HttpResponse:
    require(request.user, "session.chart")
    message = _queued(message_id)
    form = AssignForm(request.POST)
    session = None
    if form.is_valid():
        session = (
            Session.objects.filter(pk=form.cleaned_data["session"], status__in=CHARTING)
            .select_related("chair", "course")
            .first()
        )
    if session is None:
        messages.error(request, "Choose a session that is checked in, infusing or in recovery.")
        return redirect("monitors:unassigned")
    try:
        count = services.message_assign(acting_user=request.user, message=message, session=session)
    except ValidationError as exc:
        messages.error(request, "Not assigned: " + " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{count} reading(s) charted to {session.chair.name}: confirm them on the chart.",
        )
    return redirect("monitors:unassigned")


@login_required
@require_POST
def dismiss(request: HttpRequest, message_id: int) -> HttpResponse:
    require(request.user, "session.chart")
    message = _queued(message_id)
    form = DismissForm(request.POST)
    try:
        services.message_dismiss(
            acting_user=request.user,
            message=message,
            reason=form.data.get("reason", "")
            if not form.is_valid()
            else form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, "Not dismissed: " + " ".join(exc.messages))
    else:
        messages.success(request, "Dismissed: kept, not charted.")
    return redirect("monitors:unassigned")
