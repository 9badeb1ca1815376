"""Pages of the session chart: the chair board (polled by HTMX), a session's chart with its
vitals plot and its steps (`views.page`), the printable record (PDF), and acknowledging an alert.
The chart's steps are written through `views.steps`. A refused write answers 409 with its
reasons; a signed session refuses every write but an addendum."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.infusions import services
from ketaclinic.infusions.forms import AlertAcknowledgeForm
from ketaclinic.infusions.models import SessionAlert, SessionStatus
from ketaclinic.infusions.pdf import record_pdf_bytes
from ketaclinic.infusions.selectors import chair_tiles
from ketaclinic.infusions.views.page import chart_render, refused_page, session_or_404
from ketaclinic.lib.forms import service_errors_onto

BOARD_POLL_SECONDS = 3


def _large(request: HttpRequest) -> bool:
    """The large-type board, to read from a few metres (kept in the polled URL)."""
    return request.GET.get("large") == "1"


@login_required
def board(request: HttpRequest) -> HttpResponse:
    tiles = chair_tiles(request.user)
    return render(
        request,
        "infusions/board.html",
        {
            "tiles": tiles,
            "now": timezone.now(),
            "poll_seconds": BOARD_POLL_SECONDS,
            "large": _large(request),
        },
    )


@login_required
def board_rows(request: HttpRequest) -> HttpResponse:
    # The polled refresh shows what the full page load already recorded as read; auditing
    # every poll (each few seconds per screen) would drown the trail, so it is not re-audited.
    tiles = chair_tiles(request.user, audit=False)
    return render(request, "infusions/_board_rows.html", {"tiles": tiles, "now": timezone.now()})


@login_required
def chart(request: HttpRequest, session_id: UUID) -> HttpResponse:
    return chart_render(request, session_or_404(request, session_id))


@login_required
def record_pdf(request: HttpRequest, session_id: UUID) -> HttpResponse:
    session = session_or_404(request, session_id)
    if session.status == SessionStatus.SIGNED:
        # Served from storage: the same bytes as FHIR's DocumentReference/Binary (its SHA-1).
        stored = services.record_document_latest_or_store(acting_user=request.user, session=session)
        content = bytes(stored.pdf)
    else:
        content = record_pdf_bytes(session)  # not signed yet: the chart as it stands now
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="session-{session.pk}.pdf"'
    return response


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, session_id: UUID, alert_id: int) -> HttpResponse:
    """Acknowledge an alert, with a note of what was done where the alert needs one: without
    it the chart comes back (422) with the error beside the alert's note field."""
    session = session_or_404(request, session_id, "session.chart", audit=False)
    form = AlertAcknowledgeForm(request.POST, alert_id=alert_id)
    if form.is_valid():
        try:
            services.alert_acknowledge(
                acting_user=request.user,
                session=session,
                alert_id=alert_id,
                note=form.cleaned_data["note"],
            )
        except services.ChartRefused as exc:
            return refused_page(request, session, exc)
        except SessionAlert.DoesNotExist:
            raise Http404 from None
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            if request.headers.get("HX-Request"):
                tiles = chair_tiles(request.user, audit=False)
                context = {"tiles": tiles, "now": timezone.now()}
                return render(request, "infusions/_board_rows.html", context)
            return redirect("infusions:chart", session_id=session.pk)
    fresh = session_or_404(request, session_id)
    return chart_render(request, fresh, alert_forms={alert_id: form}, status=422)
