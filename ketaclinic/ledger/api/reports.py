"""The dispensing and reconciliation reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest

from ketaclinic.ledger import reports
from ketaclinic.ledger.api.core import _location, router
from ketaclinic.ledger.schemas import ReconciliationOut


@router.get("/reports/dispensing", url_name="ledger_report_dispensing")
def dispensing_report(
    request: HttpRequest, location: str, start: date, end: date
) -> dict[str, Any]:
    loc = _location(request.user, location, permission="ledger.report")
    record = reports.dispensing_record(acting_user=request.user, location=loc, start=start, end=end)
    return reports.dispensing_json(record)


@router.get(
    "/reports/reconciliation",
    response=list[ReconciliationOut],
    url_name="ledger_report_reconciliation",
)
def reconciliation_report(request: HttpRequest, start: date, end: date) -> list[dict[str, Any]]:
    rows = reports.reconciliation_report(acting_user=request.user, start=start, end=end)
    return [{"session": r.session.pk, "problems": r.problems} for r in rows]
