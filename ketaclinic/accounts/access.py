"""Access checks shared by pages and the API. One condition per line, so coverage proves each."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ketaclinic.accounts.roles import Role, role_has


def user_role(user: Any) -> Role | None:
    """The role of a logged-in user, or None for anonymous or role-less users."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    role = getattr(user, "role", "")
    if not role:
        return None
    return Role(role)


def user_can(user: Any, permission: str) -> bool:
    # A program's account (role client) holds nothing in the role table: the rights its
    # access token's scopes give are set on it for the request (ketaclinic/fhir/smart/).
    granted = getattr(user, "granted_permissions", None)
    if granted is not None:
        return permission in granted
    return role_has(user_role(user), permission)


def require(user: Any, permission: str) -> None:
    """Raise PermissionDenied (403) unless the user holds the permission."""
    if not user_can(user, permission):
        raise PermissionDenied(permission)


def staff_page_only(user: Any) -> None:
    """A staff page about one patient: Http404 for anyone who may not see any patient (a
    patient sees their own record in the portal, never on a staff page; 404 exactly as for an
    id that does not exist, so the answer says nothing about the id)."""
    if not user_can(user, "patient.view_any"):
        raise Http404
