"""Require a verified second factor for the roles that must have one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db.models import IntegerField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.middleware import OTPMiddleware as LibraryOTPMiddleware
from django_otp.models import Device

from ketaclinic.accounts.models import user_is_verified
from ketaclinic.lib.compiled_read import CompiledRead, Slot

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


# The device read of each device model, compiled once per process (lib/compiled_read.py).
_DEVICE_READS: dict[type[Any], CompiledRead] = {}


def device_from_persistent_id(persistent_id: str) -> Device | None:
    """``Device.from_persistent_id`` (django-otp): the device a persistent id ("app.model/id")
    names, or None for a malformed id, an unknown model or a device that is gone; the same
    read (``filter(id=...).first()``), its SQL compiled once instead of on every request."""
    try:
        model_label, device_id = persistent_id.rsplit("/", 1)
        app_label, model_name = model_label.split(".")
        device_model = apps.get_model(app_label, model_name)
        pk = int(device_id)
    except (ValueError, LookupError):
        return None
    if not issubclass(device_model, Device):
        return None
    read = _DEVICE_READS.get(device_model)
    if read is None:
        read = _DEVICE_READS.setdefault(
            device_model,
            CompiledRead(
                lambda: device_model.objects.filter(id=Slot("id", IntegerField())).order_by("pk")[
                    :1
                ]
            ),
        )
    found = read.objects(id=pk)
    return found[0] if found else None


class OTPMiddleware(LibraryOTPMiddleware):  # type: ignore[misc]
    """django-otp's middleware (the user's verified device from the session, checked against
    the user and confirmed by the library), reading the device with ``device_from_persistent_id``:
    building and compiling the library's queryset cost ~0.9 ms of CPU on every page of a user
    with a second factor."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        return device_from_persistent_id(self._normalize_persistent_id(persistent_id))
