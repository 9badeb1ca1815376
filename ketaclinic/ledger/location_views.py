"""The administrator's setup page for the ledger: DEA-registered locations, their safes and
cabinets, and the waste-witness policy. Thin: the forms parse, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import require
from ketaclinic.ledger import services
from ketaclinic.ledger.forms import LocationForm, StorageForm, WitnessPolicyForm
from ketaclinic.ledger.models import RegisteredLocation, StorageLocation
from ketaclinic.lib.forms import service_errors_onto


def _page(
    request: HttpRequest,
    *,
    form: LocationForm | None = None,
    storage_bound: tuple[int, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    locations = list(
        RegisteredLocation.objects.prefetch_related(
            Prefetch("storage_locations", queryset=StorageLocation.objects.order_by("name"))
        ).order_by("name", "pk")
    )
    rows: list[dict[str, Any]] = []
    for location in locations:
        bound = storage_bound[1] if storage_bound and storage_bound[0] == location.pk else None
        rows.append(
            {
                "location": location,
                "storage_form": bound or StorageForm(auto_id=f"storage-{location.pk}-%s"),
            }
        )
    context = {"rows": rows, "form": form or LocationForm(auto_id="loc-%s")}
    return render(request, "ledger/locations.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def locations(request: HttpRequest) -> HttpResponse:
    require(request.user, "ledger.manage")
    if request.method == "GET":
        return _page(request)
    form = LocationForm(request.POST, auto_id="loc-%s")
    if form.is_valid():
        try:
            location = services.location_register(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"{location.name} registered, with its safe.")
            return redirect("ledger:locations")
    return _page(request, form=form, status=422)


def _location_or_404(location_id: int) -> RegisteredLocation:
    try:
        return RegisteredLocation.objects.get(pk=location_id)
    except RegisteredLocation.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def storage_add(request: HttpRequest, location_id: int) -> HttpResponse:
    require(request.user, "ledger.manage")
    location = _location_or_404(location_id)
    form = StorageForm(request.POST, auto_id=f"storage-{location.pk}-%s")
    if form.is_valid():
        try:
            storage = services.storage_location_create(
                acting_user=request.user,
                location=location,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            service_errors_onto(form, exc)
        else:
            messages.success(request, f"{storage.name} added to {location.name}.")
            return redirect("ledger:locations")
    return _page(request, storage_bound=(location.pk, form), status=422)


@login_required
@require_POST
def witness_policy(request: HttpRequest, location_id: int) -> HttpResponse:
    require(request.user, "ledger.manage")
    location = _location_or_404(location_id)
    form = WitnessPolicyForm(request.POST)
    form.is_valid()
    required = bool(form.cleaned_data.get("waste_witness_required"))
    services.location_witness_policy_set(
        acting_user=request.user, location=location, waste_witness_required=required
    )
    words = "needs a witness" if required else "no longer needs a witness"
    messages.success(request, f"Wasting at {location.name} {words}.")
    return redirect("ledger:locations")
