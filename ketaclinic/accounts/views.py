from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from two_factor.views import DisableView

from ketaclinic.accounts.access import require
from ketaclinic.accounts.lockouts import lockout_release, lockouts_current

_disable = DisableView.as_view()


def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turning 2FA off is refused for the roles that must use it."""
    if getattr(request.user, "two_factor_required", False):
        raise PermissionDenied("this role must keep two-factor authentication")
    response: HttpResponse = _disable(request)
    return response


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    """The administrator's list of sign-in lockouts in force, each with an unlock button."""
    require(request.user, "account.unlock")
    if request.method == "POST":
        raw = request.POST.get("lockout", "")
        if raw.isdigit() and lockout_release(acting_user=request.user, lockout_id=int(raw)):
            messages.success(request, "Unlocked. The person can sign in again now.")
        else:
            messages.info(request, "That lockout had already ended.")
        return redirect("accounts:lockouts")
    context = {"lockouts": lockouts_current(), "limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "accounts/lockouts.html", context)
