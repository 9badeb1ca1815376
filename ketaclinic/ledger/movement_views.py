"""Ledger pages that write: receipt, draw, waste (witnessed in the same request), count,
quarantine and release, correction, and resolving a count's investigation.

Each page is shown only to the roles that may use it and calls the ledger's service, which
checks the role again and decides: its `ValidationError` shows beside the fields (422), its
`LedgerRefused` shows the reason above the form (409); either way nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import require
from ketaclinic.ledger import selectors, services
from ketaclinic.ledger.entries import ZERO, LedgerRefused, ml_text
from ketaclinic.ledger.forms import (
    CorrectionForm,
    CountForm,
    DrawForm,
    ReasonForm,
    ReceiptForm,
    ResolveForm,
    WasteForm,
)
from ketaclinic.ledger.models import (
    Container,
    EntryKind,
    Investigation,
    LedgerEntry,
    RegisteredLocation,
)
from ketaclinic.lib.forms import service_errors_onto

GET_POST = require_http_methods(["GET", "POST"])


@dataclass(frozen=True)
class FormPage:
    """What a form page says around its form."""

    title: str
    submit: str
    back: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    lead: str = ""


def _page(request: HttpRequest, form: Any, page: FormPage, refused: str = "") -> HttpResponse:
    """The form page; after a POST that did not store anything, 422 (bad input) or 409 (the
    ledger refused)."""
    status = 200
    if request.method == "POST":
        status = 409 if refused else 422
    context = {"form": form, "page": page, "refused": refused}
    return render(request, "ledger/form.html", context, status=status)


def _container(request: HttpRequest, container_id: int, permission: str) -> Container:
    try:
        return selectors.container_get_for_user(request.user, container_id, permission=permission)
    except Container.DoesNotExist:
        raise Http404 from None


def _entry(
    request: HttpRequest, entry_id: int, permission: str, kind: str | None = None
) -> LedgerEntry:
    try:
        return selectors.entry_get_for_user(
            request.user, entry_id, permission=permission, kind=kind
        )
    except LedgerEntry.DoesNotExist:
        raise Http404 from None


def _container_url(container_id: int) -> str:
    return reverse("ledger:container", args=[container_id])


def _container_facts(container: Container) -> list[tuple[str, str]]:
    current = selectors.container_ledger(container).current
    return [
        ("Container", f"{container.pk}, {container.receipt.product_name}, lot {container.lot}"),
        ("Concentration", f"{container.mg_per_ml.normalize():f} mg/mL"),
        ("Expires", container.expires_on.isoformat()),
        ("In the container", f"{ml_text(current.balance.ml)} ({current.balance.mg:f} mg)"),
    ]


# --- receipts --------------------------------------------------------------------------------


@login_required
@GET_POST
def receipt_new(request: HttpRequest) -> HttpResponse:
    require(request.user, "ledger.manage")
    back = reverse("ledger:home")
    page = FormPage(title="Receive ketamine", submit="Record the receipt", back=back)
    if request.method == "GET":
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = ReceiptForm(initial={"received_at": now})
        return _page(request, form, page)
    form = ReceiptForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _, vials = services.ledger_receive(
                acting_user=request.user,
                location=data["location"],
                storage=data["storage"],
                product_name=data["product_name"],
                ndc=data["ndc"],
                form=data["finished_form"],
                concentration_mg_per_ml=data["concentration_mg_per_ml"],
                container_volume_ml=data["container_volume_ml"],
                lot=data["lot"],
                expiry=data["expiry"],
                containers=data["containers"],
                supplier_name=data["supplier_name"],
                supplier_address=data["supplier_address"],
                supplier_dea_number=data["supplier_dea_number"],
                reference=data["reference"],
                received_at=data["received_at"],
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc, ReceiptForm.aliases)
        else:
            numbers = ", ".join(str(v.pk) for v in vials)
            messages.success(request, f"Received {len(vials)} container(s): {numbers}.")
            return redirect("ledger:home")
    return _page(request, form, page)


# --- draws and waste -------------------------------------------------------------------------


def _session_label(session: Any) -> str:
    patient = session.course.patient
    when = timezone.localtime(session.start).strftime("%Y-%m-%d %H:%M")
    return (
        f"{when}, {session.chair.name}: {patient.family_name}, {patient.given_name} "
        f"({session.get_status_display()})"
    )


@login_required
@GET_POST
def draw(request: HttpRequest, container_id: int) -> HttpResponse:
    container = _container(request, container_id, "ledger.draw")
    sessions = {
        str(s.pk): s
        for s in selectors.draw_sessions_for_user(request.user, today=timezone.localdate())
    }
    choices = [(pk, _session_label(s)) for pk, s in sessions.items()]
    back = _container_url(container.pk)
    page = FormPage(
        title=f"Draw from container {container.pk}",
        submit="Record the draw",
        back=back,
        facts=_container_facts(container),
    )
    if request.method == "GET":
        initial = {"session": request.GET.get("session", "")}
        return _page(request, DrawForm(initial=initial, sessions=choices), page)
    form = DrawForm(request.POST, sessions=choices)
    if form.is_valid():
        try:
            row = services.ledger_draw(
                acting_user=request.user,
                container=container,
                session=sessions[form.cleaned_data["session"]],
                ml=form.cleaned_data["volume_ml"],
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(
                request, f"Draw {selectors.entry_ref(row.seq)} recorded: {ml_text(row.ml)}."
            )
            return redirect(back)
    return _page(request, form, page)


@login_required
@GET_POST
def waste(request: HttpRequest, draw_id: int) -> HttpResponse:
    """The rest of a draw, wasted; the witness types their own credentials into this form."""
    found = _entry(request, draw_id, "ledger.waste", kind=EntryKind.DRAW)
    container = found.container
    state = selectors.container_ledger(container).draw_state(found)
    back = _container_url(container.pk)
    witness = "required" if container.location.waste_witness_required else "optional here"
    page = FormPage(
        title=f"Waste the rest of draw {selectors.entry_ref(found.seq)}",
        submit="Record the waste",
        back=back,
        facts=[
            *_container_facts(container)[:2],
            ("Drawn", ml_text(state.drawn)),
            ("Not yet given, wasted or lost", ml_text(state.open_ml)),
            ("Witness", witness),
        ],
    )
    if request.method == "GET":
        initial = {"volume_ml": f"{state.open_ml.normalize():f}" if state.open_ml > ZERO else ""}
        return _page(request, WasteForm(initial=initial), page)
    form = WasteForm(request.POST)
    if form.is_valid():
        try:
            row = services.ledger_waste(
                acting_user=request.user,
                draw=found,
                ml=form.cleaned_data["volume_ml"],
                method=form.cleaned_data["method"],
                witness=form.witness(request),
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(
                request, f"Waste {selectors.entry_ref(row.seq)} recorded: {ml_text(row.ml)}."
            )
            return redirect(back)
    return _page(request, form, page)


# --- counts and investigations ---------------------------------------------------------------


@login_required
@GET_POST
def count_new(request: HttpRequest) -> HttpResponse:
    """A shift or daily count of one location: every container that should hold something."""
    require(request.user, "ledger.manage")
    locations = list(RegisteredLocation.objects.order_by("name", "pk"))
    raw = request.GET.get("location", "")
    location = next((loc for loc in locations if str(loc.pk) == raw), None)
    if location is None and raw:
        raise Http404("no such location")
    if location is None:
        if not locations:
            raise Http404("no registered location")
        location = locations[0]
    # The shelves only: the finished containers are counted, none replayed.
    stock = selectors.ledger_stock_for_user(request.user, today=timezone.localdate(), empties=False)
    (here,) = [s for s in stock if s.location.pk == location.pk]
    lines = [line for shelf in here.storages for line in shelf.containers]
    containers = [line.container for line in lines]
    sealed = {line.container.pk for line in lines if line.status == "sealed"}
    back = reverse("ledger:home")
    page = FormPage(
        title=f"Count at {location.name}",
        submit="Record the count",
        back=back,
        lead="Count each container without looking at the ledger's figures. A difference "
        "opens an investigation.",
    )
    if request.method == "GET":
        return _page(request, CountForm(containers=containers, sealed=sealed), page)
    form = CountForm(request.POST, containers=containers, sealed=sealed)
    if form.is_valid():
        try:
            _, investigations = services.ledger_count(
                acting_user=request.user,
                location=location,
                kind=form.cleaned_data["kind"],
                lines=form.lines(),
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc, form.aliases)
        else:
            text = f"Count recorded: {len(containers)} container(s)"
            if investigations:
                text += f"; {len(investigations)} difference(s) opened as investigations"
            messages.success(request, text + ".")
            return redirect(back)
    return _page(request, form, page)


@login_required
@GET_POST
def investigation_resolve(request: HttpRequest, investigation_id: int) -> HttpResponse:
    try:
        investigation = selectors.investigation_get_for_user(request.user, investigation_id)
    except Investigation.DoesNotExist:
        raise Http404 from None
    entry = investigation.count_entry
    back = reverse("ledger:home")
    page = FormPage(
        title=f"Resolve investigation {investigation.pk}",
        submit="Resolve",
        back=back,
        facts=[
            ("Container", str(entry.container_id)),
            ("Count", f"{selectors.entry_ref(entry.seq)}, {timezone.localtime(entry.at):%Y-%m-%d}"),
            ("Expected", ml_text(investigation.expected_ml)),
            ("Counted", ml_text(investigation.counted_ml)),
        ],
    )
    if request.method == "GET":
        return _page(request, ResolveForm(), page)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.investigation_resolve(
                acting_user=request.user,
                investigation=investigation,
                resolution=form.cleaned_data["resolution"],
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Investigation {investigation.pk} resolved.")
            return redirect(back)
    return _page(request, form, page)


# --- quarantine and corrections --------------------------------------------------------------


def _quarantine(request: HttpRequest, container_id: int, *, release: bool) -> HttpResponse:
    container = _container(request, container_id, "ledger.manage")
    back = _container_url(container.pk)
    page = FormPage(
        title=f"{'Release' if release else 'Quarantine'} container {container.pk}",
        submit="Release from quarantine" if release else "Quarantine",
        back=back,
        facts=_container_facts(container),
    )
    if request.method == "GET":
        return _page(request, ReasonForm(), page)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.ledger_quarantine(
                acting_user=request.user,
                container=container,
                reason=form.cleaned_data["reason"],
                release=release,
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            done = "released from quarantine" if release else "quarantined"
            messages.success(request, f"Container {container.pk} {done}.")
            return redirect(back)
    return _page(request, form, page)


@login_required
@GET_POST
def quarantine(request: HttpRequest, container_id: int) -> HttpResponse:
    return _quarantine(request, container_id, release=False)


@login_required
@GET_POST
def release(request: HttpRequest, container_id: int) -> HttpResponse:
    return _quarantine(request, container_id, release=True)


@login_required
@GET_POST
def correct(request: HttpRequest, entry_id: int) -> HttpResponse:
    """A compensating entry against an earlier one (the ledger is append-only)."""
    entry = _entry(request, entry_id, "ledger.manage")
    back = _container_url(entry.container_id)
    page = FormPage(
        title=f"Correct entry {selectors.entry_ref(entry.seq)}",
        submit="Record the correction",
        back=back,
        facts=[
            ("Entry", f"{selectors.entry_ref(entry.seq)}: {entry.get_kind_display()}"),
            ("Volume", ml_text(entry.ml)),
            ("Container", str(entry.container_id)),
        ],
    )
    if request.method == "GET":
        return _page(request, CorrectionForm(), page)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            row = services.ledger_correct(
                acting_user=request.user,
                entry=entry,
                ml=form.cleaned_data["volume_ml"],
                reason=form.cleaned_data["reason"],
            )
        except LedgerRefused as exc:
            return _page(request, form, page, refused=exc.reason)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"Correction {selectors.entry_ref(row.seq)} recorded.")
            return redirect(back)
    return _page(request, form, page)
