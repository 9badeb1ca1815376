from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.selectors import audit_events_filter

PAGE_SIZE = 100


def _uuid_or_none(raw: str) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


def _int_or_none(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.view")
    patient = _uuid_or_none(request.GET.get("patient", "").strip())
    actor = _int_or_none(request.GET.get("actor", "").strip())
    action = request.GET.get("action", "")
    action = action if action in Action.values else ""
    before = _int_or_none(request.GET.get("before", "").strip())
    events = audit_events_filter(
        patient_id=patient,
        actor_id=actor,
        action=action or None,
        before_seq=before,
        limit=PAGE_SIZE,
    )
    context = {
        "events": events,
        "patient": patient or "",
        "actor": actor or "",
        "action": action,
        "actions": Action.choices,
        "next_before": events[-1].seq if len(events) == PAGE_SIZE else None,
    }
    return render(request, "audit/list.html", context)
