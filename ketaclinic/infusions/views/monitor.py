"""The bedside monitor's readings on the chart: confirm the batch (one click), mark a
reading an artefact (with a reason). Thin: the rules are in `services.monitor_feed`."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ketaclinic.infusions import services
from ketaclinic.infusions.models import VitalsReading
from ketaclinic.infusions.views.page import refused_page, session_or_404


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


@login_required
@require_POST
def monitor_confirm(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = session_or_404(request, session_id, "session.chart", audit=False)
    try:
        count = services.vitals_confirm_monitor(
            acting_user=request.user, session=session, up_to=_int(request.POST.get("up_to"))
        )
    except services.ChartRefused as exc:
        return refused_page(request, session, exc)
    messages.success(request, f"{count} reading(s) from the monitor confirmed.")
    return redirect("infusions:chart", session_id=session.pk)


@login_required
@require_POST
def monitor_artefact(request: HttpRequest, session_id: UUID, reading_id: int) -> HttpResponse:
    session = session_or_404(request, session_id, "session.chart", audit=False)
    try:
        services.vitals_mark_artefact(
            acting_user=request.user,
            session=session,
            reading_id=reading_id,
            reason=request.POST.get("reason", ""),
        )
    except services.ChartRefused as exc:
        return refused_page(request, session, exc)
    except VitalsReading.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, "Not marked: " + " ".join(exc.messages))
        return redirect("infusions:chart", session_id=session.pk)
    messages.success(request, "Marked an artefact: kept, not charted.")
    return redirect("infusions:chart", session_id=session.pk)
