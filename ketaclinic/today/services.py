"""Writes of the Today app: a verification of the audit trail and the ledger, recorded."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.verify import audit_verify
from ketaclinic.ledger.selectors.chain import ledger_verify
from ketaclinic.today.models import ChainCheck, ChainKind


def chains_verify(*, acting_user: Any) -> list[ChainCheck]:
    """Verify both chains now (every hash, every container balance) and record the outcome.
    ``acting_user`` None is the demo command or cron; a person must hold ``audit.view``."""
    if acting_user is not None:
        require(acting_user, "audit.view")
    audit_problem = audit_verify()
    ledger_problems = ledger_verify()
    with transaction.atomic():
        return [
            ChainCheck.objects.create(
                kind=ChainKind.AUDIT,
                ok=audit_problem is None,
                problem="" if audit_problem is None else str(audit_problem)[:2000],
                checked_by=acting_user,
            ),
            ChainCheck.objects.create(
                kind=ChainKind.LEDGER,
                ok=not ledger_problems,
                problem="; ".join(str(p) for p in ledger_problems)[:2000],
                checked_by=acting_user,
            ),
        ]
