"""The token endpoint and the SMART configuration (programs, no session), and the
administrator's pages where programs are registered (server-rendered, like the other setup
pages)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ketaclinic.accounts.access import require
from ketaclinic.fhir.smart import selectors, services
from ketaclinic.fhir.smart.discovery import TOKEN_PATH, smart_configuration
from ketaclinic.fhir.smart.forms import ClientChangeForm, ClientForm
from ketaclinic.fhir.smart.models import ClientKind, SmartClient
from ketaclinic.fhir.smart.tokens import OAuthError, access_token_issue
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.patients.selectors import patients_visible_to

FHIR_BASE = "/fhir/R4/"


def _json(data: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"  # RFC 6749 section 5.1
    response["Pragma"] = "no-cache"
    return response


@require_GET
def smart_configuration_view(request: HttpRequest) -> HttpResponse:
    """``GET /fhir/R4/.well-known/smart-configuration``: public, no patient data."""
    response = _json(smart_configuration(request.build_absolute_uri(FHIR_BASE)))
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """``POST /fhir/R4/auth/token`` (form-encoded): an access token, or an RFC 6749 error."""
    if request.method != "POST":
        response = _json({"error": "invalid_request", "error_description": "POST only"}, 405)
        response["Allow"] = "POST"
        return response
    form = request.POST
    try:
        issued = access_token_issue(
            grant_type=form.get("grant_type", ""),
            assertion_type=form.get("client_assertion_type", ""),
            assertion=form.get("client_assertion", ""),
            scope=form.get("scope", ""),
            token_url=request.build_absolute_uri(FHIR_BASE + TOKEN_PATH),
        )
    except OAuthError as error:
        return _json({"error": error.error, "error_description": error.description}, error.status)
    return _json(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
    )


def _patient_by_mrn(user: Any, mrn: str) -> Any:
    return patients_visible_to(user).filter(mrn=mrn.strip()).first() if mrn.strip() else None


@login_required
@require_http_methods(["GET", "POST"])
def clients(request: HttpRequest) -> HttpResponse:
    """The registered programs, and a form to register one."""
    require(request.user, "user.manage")
    form = ClientForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            patient = _patient_by_mrn(request.user, data["patient_mrn"])
            if data["kind"] == ClientKind.PATIENT and patient is None:
                form.add_error("patient_mrn", "No patient has this MRN.")
            else:
                try:
                    created = services.smart_client_register(
                        acting_user=request.user,
                        name=data["name"],
                        client_id=data["client_id"],
                        jwks_text=data["jwks"],
                        scopes_text=data["scopes"],
                        kind=data["kind"],
                        patient=patient if data["kind"] == ClientKind.PATIENT else None,
                    )
                except ValidationError as exc:
                    service_errors_onto(form, exc, {"patient": "patient_mrn"})
                else:
                    messages.success(request, f"Program {created.name} registered.")
                    return redirect("smart:client", client_pk=created.pk)
    context = {
        "clients": selectors.smart_clients_for_admin(request.user),
        "form": form,
        "token_url": request.build_absolute_uri(FHIR_BASE + TOKEN_PATH),
    }
    return render(request, "smart/clients.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def client(request: HttpRequest, client_pk: int) -> HttpResponse:
    """One program: change its keys, scopes or name, or deactivate it."""
    try:
        found: SmartClient = selectors.smart_client_for_admin(request.user, client_pk)
    except SmartClient.DoesNotExist:
        raise Http404 from None
    initial = {
        "name": found.name,
        "scopes": found.allowed_scopes,
        "jwks": json.dumps(json.loads(found.jwks_json), indent=2),
        "active": found.active,
    }
    form = ClientChangeForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.smart_client_change(
                    acting_user=request.user,
                    client=found,
                    name=data["name"],
                    jwks_text=data["jwks"],
                    scopes_text=data["scopes"],
                    active=data["active"],
                )
            except ValidationError as exc:
                service_errors_onto(form, exc, {})
            else:
                messages.success(request, "Saved.")
                return redirect("smart:client", client_pk=found.pk)
    context = {
        "client": found,
        "form": form,
        "token_url": request.build_absolute_uri(FHIR_BASE + TOKEN_PATH),
    }
    return render(request, "smart/client.html", context, status=status)
