"""Ledger pages to read: the ledger's home (stock by storage location, open investigations), a
container's history, and the reports (dispensing record as a page, CSV or PDF; reconciliation).
The forms that write are in `movement_views`."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ketaclinic.accounts.access import require, user_can
from ketaclinic.ledger import reports, selectors
from ketaclinic.ledger.models import Container, RegisteredLocation


def _date(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _can(request: HttpRequest) -> dict[str, bool]:
    """Which of the ledger's forms the user's role may use (the services check again)."""
    user = request.user
    return {
        "can_draw": user_can(user, "ledger.draw"),
        "can_waste": user_can(user, "ledger.waste"),
        "can_manage": user_can(user, "ledger.manage"),
        "can_report": user_can(user, "ledger.report"),
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    stock = selectors.ledger_stock_for_user(request.user, today=timezone.localdate())
    can = _can(request)
    investigations = (
        selectors.investigations_open_for_user(request.user) if can["can_manage"] else []
    )
    context = {"stock": stock, "investigations": investigations, **can}
    return render(request, "ledger/home.html", context)


@login_required
@require_GET
def container(request: HttpRequest, container_id: int) -> HttpResponse:
    try:
        found = selectors.container_get_for_user(
            request.user, container_id, permission="ledger.view"
        )
    except Container.DoesNotExist:
        raise Http404 from None
    history = selectors.container_history(found)
    current = history.ledger.current
    context = {
        "container": found,
        "current": current,
        "status": selectors.container_status(current),
        "expired": current.is_expired(timezone.localdate()),
        "history": history,
        **_can(request),
    }
    return render(request, "ledger/container.html", context)


@login_required
@require_GET
def dispensing_report(request: HttpRequest) -> HttpResponse:
    require(request.user, "ledger.report")
    locations = list(RegisteredLocation.objects.order_by("name", "pk"))
    today = timezone.localdate()
    start = _date(request.GET.get("start", ""), today.replace(day=1))
    end = _date(request.GET.get("end", ""), today)
    raw_location = request.GET.get("location", "")
    location = next((loc for loc in locations if str(loc.pk) == raw_location), None)
    if location is None and raw_location:
        raise Http404("no such location")
    if location is None and locations:
        location = locations[0]
    record = None
    if location is not None:
        record = reports.dispensing_record(
            acting_user=request.user, location=location, start=start, end=end
        )
    fmt = request.GET.get("format", "html")
    stem = f"dispensing-record-{start.isoformat()}-{end.isoformat()}"
    if record is not None and fmt == "csv":
        response = HttpResponse(reports.dispensing_csv(record), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if record is not None and fmt == "pdf":
        response = HttpResponse(reports.dispensing_pdf(record), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        return response
    context = {
        "record": record,
        "locations": locations,
        "location": location,
        "start": start,
        "end": end,
    }
    return render(request, "ledger/dispensing.html", context)


@login_required
@require_GET
def reconciliation_report(request: HttpRequest) -> HttpResponse:
    """Sessions whose chart and ledger disagree (what signing would refuse), with the reasons."""
    require(request.user, "ledger.report")
    today = timezone.localdate()
    start = _date(request.GET.get("start", ""), today.replace(day=1))
    end = _date(request.GET.get("end", ""), today)
    rows = reports.reconciliation_report(acting_user=request.user, start=start, end=end)
    return render(request, "ledger/reconciliation.html", {"rows": rows, "start": start, "end": end})
