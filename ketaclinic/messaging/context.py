"""The unread-message count for the navigation (staff bar and the portal's tabs): counted
only when a template shows it, once per page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from ketaclinic.messaging.selectors import unread_total


def unread(request: HttpRequest) -> dict[str, Callable[[], int]]:
    user = getattr(request, "user", None)
    counted: list[int] = []

    def count() -> int:
        if not counted:
            authenticated = user is not None and user.is_authenticated
            counted.append(unread_total(user) if authenticated else 0)
        return counted[0]

    return {"messaging_unread": count}
