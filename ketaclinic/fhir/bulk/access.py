"""Who may export, and who may poll and download: one place for a person's API token (the
``fhir.export`` right) and a SMART program's access token (its scopes; the Bulk Data IG and
../shared/domain/interop.md, section 5: "the token's scopes must cover every exported type",
a group export needs Group read).

A program's export keeps the granted scopes (``BulkExport.grant_scope``): the job applies them
to every type and row (``writer.py``), and polls and downloads are answered only to the same
program (its own account), with any live token of it (a token lives five minutes, an export
may take longer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ketaclinic.accounts.access import user_can
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.smart.rules.scopes import (
    ConstraintUnsupported,
    Grant,
    permits,
    search_constraint,
)

EXPORT_PERMISSION = "fhir.export"


def grant_covers(grant: Grant, type_name: str) -> bool:
    """Some scope lets the grant search ``type_name``, outright or under a constraint this
    server can apply as a filter (a constraint it cannot apply covers nothing: fail closed)."""
    try:
        search_constraint(grant, type_name)
    except ConstraintUnsupported:
        return False
    return True


def export_allowed(
    user: Any, *, kind: str, types: Sequence[str], named: bool, grant: Grant | None
) -> list[str]:
    """The types to export, or 403. A person needs the ``fhir.export`` right (README, Roles)
    and gets ``types``. A program gets the types its scopes cover: a type it named in
    ``_type`` (``named``) and may not search is refused by name; without ``_type``, the types
    outside its scopes are left out (the IG: "all supported resources within the scope of the
    client authorization")."""
    if grant is None:
        if not user_can(user, EXPORT_PERMISSION):
            raise FhirProblem(
                403, [Issue("forbidden", "this account may not start a Bulk Data export")]
            )
        return list(types)
    if kind == "group" and not permits(grant, "Group", "read"):
        raise FhirProblem(
            403, [Issue("forbidden", "a Group export needs a scope that reads Group")]
        )
    covered = [t for t in types if grant_covers(grant, t)]
    refused = [t for t in types if t not in covered]
    if named and refused:
        raise FhirProblem(
            403,
            [
                Issue(
                    "forbidden",
                    f"this access token's scopes do not allow search of {', '.join(refused)}",
                    "_type",
                )
            ],
        )
    if not covered:
        raise FhirProblem(
            403, [Issue("forbidden", "this access token's scopes cover no exportable type")]
        )
    return covered


def export_visible(user: Any, requested_by_id: int | None) -> bool:
    """Whether ``user`` may poll, cancel and download an export: only its requester (the
    manifest says ``requiresAccessToken``: the same token's user; for a program, its own
    account, so any live token of the same program), and only while they still hold the
    right (a person: ``fhir.export``; a program: registered and active, which its token
    already proved)."""
    if requested_by_id is None or getattr(user, "pk", None) != requested_by_id:
        return False
    if getattr(user, "granted_permissions", None) is not None:
        return True  # a program's account (fhir/smart/access.py), the one that kicked off
    return user_can(user, EXPORT_PERMISSION)
