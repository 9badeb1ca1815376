"""The Today page: each staff role's day on one screen; every item links to where it is done."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require, user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.today.selectors import (
    admin_day_for_user,
    clinician_day_for_user,
    intake_day_for_user,
    nurse_day_for_user,
)
from ketaclinic.today.services import chains_verify


@login_required
def today(request: HttpRequest) -> HttpResponse:
    role = user_role(request.user)
    now = timezone.now()
    context: dict[str, object] = {"now": now, "today": timezone.localdate(now)}
    if role == Role.NURSE:
        context["day"] = nurse_day_for_user(request.user, now=now)
        return render(request, "today/nurse.html", context)
    if role == Role.CLINICIAN:
        context["clinician"] = clinician_day_for_user(request.user, now=now)
        return render(request, "today/clinician.html", context)
    if role == Role.INTAKE:
        context["intake"] = intake_day_for_user(request.user, today=timezone.localdate(now))
        return render(request, "today/intake.html", context)
    if role == Role.THERAPIST:
        return redirect("careplan:therapist_home")
    if role == Role.ADMIN:
        context["admin"] = admin_day_for_user(request.user, now=now)
        return render(request, "today/admin.html", context)
    raise Http404


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.view")
    checks = chains_verify(acting_user=request.user)
    if all(check.ok for check in checks):
        messages.success(request, "The audit trail and the ketamine ledger verify.")
    else:
        messages.error(request, "A chain does not verify: see below.")
    return redirect("today:home")
