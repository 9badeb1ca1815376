"""Who calls the FHIR API, and what a SMART access token lets them do.

``fhir_caller`` authenticates a request: a SMART access token (``kcs_...``, from the token
endpoint) gives the program's own account with the token's ``Grant``; any other bearer token
is an API token of a person (``ketaclinic apitoken``), unchanged: the role rules apply and
there is no grant. While a view runs, the grant is bound (``grant_bound``) so that the Bundle
writer checks each entry (``entry_permitted``) without being handed it.

For a program's account, ``user_can`` answers from ``granted_permissions`` (set here from
the grant) instead of the role table: a whole-clinic program sees any patient, a one-patient
program that patient only (``patient_id``, set on the account in memory, never saved: the
patient's own portal account holds the one-to-one link)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from ketaclinic.api.auth import BearerTokenAuth
from ketaclinic.fhir.smart.models import ClientKind, SmartAccessToken, SmartClient
from ketaclinic.fhir.smart.rules.scopes import Grant, permits, scope_parse
from ketaclinic.fhir.smart.tokens import TOKEN_PREFIX, token_hash

_grant: ContextVar[Grant | None] = ContextVar("ketaclinic_smart_grant", default=None)


def _bearer(request: HttpRequest) -> str:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def _rights(grant: Grant, kind: str) -> frozenset[str]:
    rights = {"consent.view"}
    rights.add("patient.view_any" if kind == ClientKind.SYSTEM else "patient.view_own")
    if any(
        s.type_name in ("*", "QuestionnaireResponse") and "c" in s.permissions for s in grant.scopes
    ):
        rights.add("scales.enter")  # services.questionnaire_response_record records a scale
    if kind == ClientKind.SYSTEM and any("c" in s.permissions for s in grant.scopes):
        # Opens the transaction import (POST [base]) only: each of its entries is checked
        # against the scopes (importing/transaction.py); a one-patient program never imports.
        rights.add("patient.create")
    return frozenset(rights)


def principal_for_token(raw: str) -> tuple[Any, Grant] | None:
    """The program's account and grant for a live SMART access token, else None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    found = (
        SmartAccessToken.objects.select_related("client__account")
        .filter(token_hash=token_hash(raw), expires_at__gt=timezone.now(), client__active=True)
        .first()
    )
    if found is None:
        return None
    return principal_for_scopes(found.client, found.scope)


def principal_for_scopes(client: SmartClient, scope_text: str) -> tuple[Any, Grant]:
    """The program's account with the rights of ``scope_text`` (a token's scopes, or those
    kept with a Bulk Data export for its job, which runs without the request's token)."""
    grant = Grant(
        tuple(scope_parse(s) for s in scope_text.split()),
        patient_id=str(client.patient_id) if client.patient_id else None,
        client_id=client.client_id,
    )
    account = client.account
    account.granted_permissions = _rights(grant, client.kind)  # type: ignore[attr-defined]
    account.patient_id = client.patient_id  # in memory only (see the module's note)
    return account, grant


def fhir_caller(request: HttpRequest) -> tuple[Any, Grant | None]:
    """(user, grant): a program with its grant, a person's API token with None, or
    (None, None) when the request carries no valid token."""
    raw = _bearer(request)
    if raw.startswith(TOKEN_PREFIX):
        found = principal_for_token(raw)
        if found is None:
            return None, None
        request.user = found[0]
        return found
    return BearerTokenAuth()(request), None


def current_grant() -> Grant | None:
    """The grant of the request being served; None for a person's API token."""
    return _grant.get()


@contextmanager
def grant_bound(grant: Grant | None) -> Iterator[None]:
    token = _grant.set(grant)
    try:
        yield
    finally:
        _grant.reset(token)


def _type_of(full_url: str) -> str:
    parts = full_url.split("?", 1)[0].rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


@functools.lru_cache(maxsize=512)
def _type_decision(grant: Grant, type_name: str) -> tuple[bool, bool]:
    """(read or search allowed outright, some constrained scope covers it), once per grant
    and type rather than once per entry."""
    plain = permits(grant, type_name, "read") or permits(grant, type_name, "search")
    covered = any(
        s.type_name in ("*", type_name) and ("r" in s.permissions or "s" in s.permissions)
        for s in grant.scopes
    )
    return plain, covered


def entry_permitted(full_url: str, text: str) -> bool:
    """Whether the bound grant lets the caller see this Bundle entry (fullUrl ``.../Type/id``,
    the resource's JSON text): read or search of its type, and the scope's query constraints
    on the resource itself. Always True without a grant (a person's role rules decided)."""
    grant = _grant.get()
    if grant is None:
        return True
    type_name = _type_of(full_url)
    resource: Any = None
    if not (type_name[:1].isupper() and type_name.isalpha()):  # urn:uuid:...: read the type
        try:
            resource = json.loads(text)
        except ValueError:
            return False
        type_name = str(resource.get("resourceType", "")) if isinstance(resource, dict) else ""
    plain, covered = _type_decision(grant, type_name)
    if plain:
        return True
    if not covered:
        return False
    # Only for constrained scopes: most entries never get here, and are never parsed.
    if resource is None:
        try:
            resource = json.loads(text)
        except ValueError:
            return False
    if not isinstance(resource, dict):
        return False
    return permits(grant, type_name, "read", resource) or permits(
        grant, type_name, "search", resource
    )
