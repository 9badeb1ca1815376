"""Navigation by role, for the base template."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.access import user_can, user_role
from ketaclinic.accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None


NAVIGATION = (
    NavItem("Patients", "patients:list", "patient.view_any"),
    NavItem("Inquiries", "intake:inquiries", "inquiry.view"),
    NavItem("Schedule", "courses:schedule", "patient.view_any"),
    NavItem("Chair board", "infusions:board", "session.view"),
    NavItem("Protocols", "courses:protocols", "protocol.view"),
    NavItem("Inbox", "scales:notifications", "patient.view_any"),
    NavItem("Ketamine ledger", "ledger:home", "ledger.view"),
    NavItem("Outcomes", "outcomes:clinic", "outcomes.view"),
    NavItem("My record", "web:me", "patient.view_own"),
    NavItem("Audit trail", "audit:list", "audit.view"),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = user_role(user)
    items = [
        {"label": item.label, "url": reverse(item.url_name)}
        for item in NAVIGATION
        if role is not None and (item.permission is None or user_can(user, item.permission))
    ]
    return {
        "nav_items": items,
        "nav_role_label": Role(role).label if role else "",
        # Staff flag labels (the banner's) are for the care team; a patient never sees them.
        "viewer_is_staff": role is not None and user_can(user, "patient.view_any"),
    }
