"""How programs and the browser authenticate to the JSON API: a bearer token, or the verified
session. Apps import these (e.g. to narrow them for the ledger); nothing here imports an app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from ketaclinic.accounts.models import user_is_verified
from ketaclinic.accounts.selectors import user_for_api_token


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_api_token(token)
        if user is None:
            return None
        request.user = user
        return user


class VerifiedSessionAuth(SessionAuth):
    """The browser session, refused for roles that must use 2FA until it is verified."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if getattr(user, "two_factor_required", False) and not user_is_verified(user):
            return None
        return user
