"""Sign-in lockouts (django-axes): how they are keyed, which are in force, and an
administrator's unlock.

A lockout is keyed on the username and the client address together (settings
`AXES_LOCKOUT_PARAMETERS`), so failures from one address never lock the account elsewhere:
behind the clinic's proxies the address is the client's (`KETACLINIC_TRUSTED_PROXIES`).

A password typed into a second-check or witness form (`accounts.second_person`) counts under
its own key, "<username> (second check by <acting user>)": a colleague who types wrong
passwords there is stopped from trying more, and the account's own sign-in is untouched
(issue 18, item 14: any nurse could lock a prescriber out through the second-check form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record

SECOND_CHECK_BY = "second_check_by"  # the credential that marks a second person's check


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the username a failure counts against."""
    if credentials:
        username = str(credentials.get("username") or "")
        checker = credentials.get(SECOND_CHECK_BY)
        if checker:
            return f"{username} (second check by {checker})"
        return username
    data = getattr(request, "POST", None) or {}
    return str(data.get("username") or data.get("auth-username") or "")


def _cooloff() -> timedelta:
    return timedelta(hours=float(settings.AXES_COOLOFF_TIME))


@dataclass(frozen=True)
class Lockout:
    id: int
    username: str
    address: str
    failures: int
    last_failure: datetime
    ends: datetime

    @property
    def second_check(self) -> bool:
        return "(second check by " in self.username


def lockouts_current() -> list[Lockout]:
    """Lockouts in force now: failures at or over the limit within the cool-off time."""
    since = timezone.now() - _cooloff()
    rows = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time")
    return [
        Lockout(
            id=row.pk,
            username=row.username or "",
            address=row.ip_address or "",
            failures=row.failures_since_start,
            last_failure=row.attempt_time,
            ends=row.attempt_time + _cooloff(),
        )
        for row in rows
    ]


@transaction.atomic
def lockout_release(*, acting_user: Any, lockout_id: int) -> bool:
    """Lift one lockout (its failures are forgotten); audited. False when it is gone already."""
    row = AccessAttempt.objects.select_for_update().filter(pk=lockout_id).first()
    if row is None:
        return False
    plain = (row.username or "").split(" (second check by ", 1)[0]
    user_id = User.objects.filter(username=plain).values_list("pk", flat=True).first()
    row.delete()
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="login_lockout",
        # the account's id, never its username or the address (those stay in axes' table)
        object_id=f"user:{user_id}" if user_id else f"attempt:{lockout_id}",
        patient_id=None,
    )
    return True
