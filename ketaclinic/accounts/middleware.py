"""Require a verified second factor for the roles that must have one."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from ketaclinic.accounts.models import user_is_verified

# Paths a signed-in but not yet verified user may still reach: the 2FA enrolment and login
# steps themselves, logout, static files and the JSON API (which has its own check).
_OPEN_PREFIXES = ("/account/", "/static/", "/api/", "/logout/", "/fhir/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_OPEN_PREFIXES):
            # Checked first, so that an API request does not load the session's user here:
            # a bearer-token request replaces it, and the API checks the second factor itself.
            return self.get_response(request)
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "two_factor_required", False)
            and not user_is_verified(user)
        ):
            from django_otp import user_has_device

            if user_has_device(user):
                return redirect(reverse("two_factor:login") + "?next=" + request.path)
            return redirect("two_factor:setup")
        return self.get_response(request)
