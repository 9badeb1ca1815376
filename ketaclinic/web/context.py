"""Navigation by role, for the base template.

The bar holds the first ``NAV_INLINE`` places of the role's order (``ROLE_ORDER``), the rest
sit under "More", so that the staff navigation stays on one line at 820 px whatever a role may
open; places added later to ``NAVIGATION`` and absent from a role's order go under "More".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language, gettext

from ketaclinic.accounts.access import user_can, user_role
from ketaclinic.accounts.roles import Role, role_has


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None


NAVIGATION = (
    NavItem("Today", "today:home", "patient.view_any"),
    NavItem("Patients", "patients:list", "patient.view_any"),
    NavItem("Inquiries", "intake:inquiries", "inquiry.view"),
    NavItem("Schedule", "courses:schedule", "patient.view_any"),
    NavItem("Chair board", "infusions:board", "session.view"),
    NavItem("Protocols", "courses:protocols", "protocol.view"),
    NavItem("Inbox", "scales:notifications", "patient.view_any"),
    NavItem("Ledger", "ledger:home", "ledger.view"),
    NavItem("Outcomes", "outcomes:clinic", "outcomes.view"),
    NavItem("Your care", "portal:home", "patient.view_own"),
    NavItem("Audit trail", "audit:list", "audit.view"),
    NavItem("Setup", "accounts:setup", "user.manage"),
    NavItem("My patients", "careplan:therapist_home", "integration.write"),
    NavItem("Messages", "messaging:inbox", "message.staff"),
)

NAV_INLINE = 5
"""How many places sit in the bar; the rest are under "More" (one line at 820 px)."""

ROLE_ORDER: dict[Role, tuple[str, ...]] = {
    Role.NURSE: (
        "today:home",
        "infusions:board",
        "courses:schedule",
        "patients:list",
        "ledger:home",
    ),
    Role.CLINICIAN: (
        "today:home",
        "patients:list",
        "scales:notifications",
        "infusions:board",
        "courses:schedule",
        "intake:inquiries",
    ),
    Role.INTAKE: (
        "today:home",
        "intake:inquiries",
        "patients:list",
        "courses:schedule",
        "messaging:inbox",
    ),
    Role.ADMIN: (
        "today:home",
        "patients:list",
        "courses:schedule",
        "ledger:home",
        "audit:list",
        "infusions:board",
    ),
}


def _ordered(role: Role, items: list[NavItem]) -> list[NavItem]:
    order = ROLE_ORDER.get(role, ())
    rank = {name: position for position, name in enumerate(order)}
    return sorted(items, key=lambda item: rank.get(item.url_name, len(order)))


def _places(role: Role, allows: Callable[[NavItem], bool]) -> tuple[dict[str, str], ...]:
    # gettext: a patient's one place ("Your care") in their language; staff pages are always
    # English (portal/middleware.py), so staff labels read as written.
    return tuple(
        {"label": gettext(item.label), "url": reverse(item.url_name), "url_name": item.url_name}
        for item in _ordered(role, [item for item in NAVIGATION if allows(item)])
    )


@lru_cache(maxsize=256)
def _role_places(
    role: Role, language: str | None, prefix: str, urlconf: object
) -> tuple[dict[str, str], ...]:
    """The role's places: the same for everyone of the role (the rights are the role's), so
    made once per role, language, script prefix and URLconf (a reverse per place costs ~0.1 ms
    on every page otherwise)."""
    return _places(role, lambda item: item.permission is None or role_has(role, item.permission))


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    role = user_role(user)
    items: list[dict[str, str]] = []
    if role is not None and getattr(user, "granted_permissions", None) is None:
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        items = list(_role_places(role, get_language(), get_script_prefix(), urlconf))
    elif role is not None:  # a program's account: the rights its token's scopes give
        items = list(
            _places(role, lambda item: item.permission is None or user_can(user, item.permission))
        )
    patient = role == Role.PATIENT
    return {
        # The account pages (password, sign-in codes) in the patient's own layout for a
        # patient, never the staff one.
        "account_layout": "portal/base.html" if patient else "base.html",
        **(
            {
                "clinic_name": settings.KETACLINIC_CLINIC_NAME,
                "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
            }
            if patient
            else {}
        ),
        "nav_items": items,
        "nav_primary": items[:NAV_INLINE],
        "nav_more": items[NAV_INLINE:],
        "nav_role_label": Role(role).label if role else "",
        # base.html shows a patient's role in their language (staff labels stay English).
        "nav_is_patient": patient,
        "nav_person": _person(user) if role is not None else "",
        # Staff flag labels (the banner's) are for the care team; a patient never sees them.
        "viewer_is_staff": role is not None and user_can(user, "patient.view_any"),
    }


def _person(user: object) -> str:
    full_name = getattr(user, "get_full_name", lambda: "")()
    return str(full_name or getattr(user, "get_username", lambda: "")())
