from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from two_factor.views import DisableView

_disable = DisableView.as_view()


def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turning 2FA off is refused for the roles that must use it."""
    if getattr(request.user, "two_factor_required", False):
        raise PermissionDenied("this role must keep two-factor authentication")
    response: HttpResponse = _disable(request)
    return response
