"""Who may export, and who may poll and download: one place, so that SMART scopes (h16-smart:
the token's scopes must cover every exported type, ``system/Group.rs`` for a Group export;
../shared/domain/interop.md, section 5) extend these functions rather than the views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ketaclinic.accounts.access import user_can
from ketaclinic.fhir.outcome import FhirProblem, Issue

EXPORT_PERMISSION = "fhir.export"


def export_allowed(user: Any, *, kind: str, types: Sequence[str]) -> None:
    """Raise 403 unless ``user`` may start an export of ``kind`` (system, patient, group)
    covering ``types``. Today: the ``fhir.export`` right (README, Roles)."""
    if not user_can(user, EXPORT_PERMISSION):
        raise FhirProblem(
            403, [Issue("forbidden", "this account may not start a Bulk Data export")]
        )


def export_visible(user: Any, requested_by_id: int | None) -> bool:
    """Whether ``user`` may poll, cancel and download an export: only its requester (the
    manifest says ``requiresAccessToken``: the same token's user), and only while they still
    hold the right."""
    return (
        requested_by_id is not None
        and getattr(user, "pk", None) == requested_by_id
        and user_can(user, EXPORT_PERMISSION)
    )
