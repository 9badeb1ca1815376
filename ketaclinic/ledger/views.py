"""Ledger pages: the dispensing record as a page, CSV or PDF (administrator only)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketaclinic.accounts.access import require
from ketaclinic.ledger import reports
from ketaclinic.ledger.models import RegisteredLocation


def _date(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


@login_required
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
