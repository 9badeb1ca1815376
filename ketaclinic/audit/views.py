"""The audit trail for the administrator: who (name and role), when (clinic time), what in
words, which kind of record, which patient; filtered by person, patient, kind, action and date
range, and paged. A patient's name is shown on the page but never put in a URL: the patient
filter is the record's opaque id, and a typed MRN is POSTed and turned into that id."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.selectors import (
    ACTION_WORDS,
    AuditFilter,
    audit_filter_choices,
    audit_page_for_user,
    patient_id_for_mrn,
)

PAGE_SIZE = 50


def _uuid_or_none(raw: str) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


def _int_or_none(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _date_or_none(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _filter_from(data: Any) -> AuditFilter:
    action = data.get("action", "")
    return AuditFilter(
        actor_id=_int_or_none(data.get("actor", "").strip()),
        patient_id=_uuid_or_none(data.get("patient", "").strip()),
        object_type=data.get("kind", "").strip()[:40],
        action=action if action in Action.values else "",
        date_from=_date_or_none(data.get("from", "").strip()),
        date_to=_date_or_none(data.get("to", "").strip()),
    )


def _query(filters: AuditFilter, **extra: Any) -> str:
    params = {
        "actor": filters.actor_id or "",
        "patient": filters.patient_id or "",
        "kind": filters.object_type,
        "action": filters.action,
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
        **extra,
    }
    return urlencode({k: v for k, v in params.items() if v})


@login_required
@require_http_methods(["GET", "POST"])
def audit_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.view")
    if request.method == "POST":
        filters = _filter_from(request.POST)
        mrn = request.POST.get("patient_mrn", "").strip()[:16]
        if mrn:
            found = patient_id_for_mrn(mrn)
            filters = filters.with_patient(found or UUID(int=0))
        query = _query(filters)
        return redirect(reverse("audit:list") + (f"?{query}" if query else ""))
    filters = _filter_from(request.GET)
    page = audit_page_for_user(request.user, filters, request.GET.get("page", "1")[:10], PAGE_SIZE)
    context = {
        "page": page,
        "rows": page.object_list,
        "filters": filters,
        "choices": audit_filter_choices(),
        "actions": list(ACTION_WORDS.items()),
        "patient_shown": page.patient_label,
        "query_previous": _query(filters, page=page.number - 1) if page.has_previous() else "",
        "query_next": _query(filters, page=page.number + 1) if page.has_next() else "",
        "query_base": _query(filters),
    }
    return render(request, "audit/list.html", context)
