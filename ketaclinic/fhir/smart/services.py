"""Registering a program (an administrator's write, audited) and changing its registration."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.fhir.smart.models import ClientKind, SmartClient
from ketaclinic.fhir.smart.rules.scopes import scopes_parse
from ketaclinic.patients.models import Patient

CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
# SMART Backend Services (scopes-and-launch-context / backend-services): RS384 and ES384.
KEY_TYPES = {"RSA": None, "EC": "P-384"}


def jwks_check(text: str) -> str:
    """The JWKS, normalised; ``ValidationError`` unless it is a JSON Web Key Set of public
    RSA or EC P-384 keys, each with a ``kid``."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ValidationError("The key set is not JSON.") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError('The key set must be {"keys": [...]} with at least one key.')
    kids: set[str] = set()
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str) or not key["kid"]:
            raise ValidationError("Every key needs a kid.")
        if key["kid"] in kids:
            raise ValidationError(f"kid {key['kid']!r} is given twice.")
        kids.add(key["kid"])
        if key.get("kty") not in KEY_TYPES:
            raise ValidationError(f"Key {key['kid']!r}: only RSA and EC (P-384) keys are taken.")
        curve = KEY_TYPES[key["kty"]]
        if curve is not None and key.get("crv") != curve:
            raise ValidationError(f"Key {key['kid']!r}: an EC key must be on {curve} (ES384).")
        if "d" in key:
            raise ValidationError(
                f"Key {key['kid']!r} holds a private part: register the public key only."
            )
    try:
        KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValidationError(f"The key set cannot be read ({type(exc).__name__}).") from None
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def scopes_check(text: str, kind: str) -> str:
    """The allowed scopes in v2 form; ``ValidationError`` for a word that is not a scope or
    a scope of the wrong context (system/ for the whole clinic, patient/ for one patient)."""
    scopes, problems = scopes_parse(text)
    if problems:
        raise ValidationError(problems)
    if not scopes:
        raise ValidationError("Give at least one scope.")
    wanted = "system" if kind == ClientKind.SYSTEM else "patient"
    wrong = [str(s) for s in scopes if s.context != wanted]
    if wrong:
        raise ValidationError(
            f"This program may hold {wanted}/ scopes only, not: {' '.join(wrong)}"
        )
    return " ".join(dict.fromkeys(str(s) for s in scopes))


def _checked(errors: dict[str, list[str]], jwks_text: str, scopes_text: str, kind: str) -> None:
    """The key set's and the scopes' problems, under their field names."""
    try:
        jwks_check(jwks_text)
    except ValidationError as exc:
        errors["jwks"] = exc.messages
    try:
        scopes_check(scopes_text, kind)
    except ValidationError as exc:
        errors["scopes"] = exc.messages


def _audit(acting_user: Any, action: Action, client: SmartClient) -> None:
    audit_record(
        actor=acting_user,
        action=action,
        object_type="SmartClient",
        object_id=client.pk,
        patient_id=client.patient_id,
    )


@transaction.atomic
def smart_client_register(
    *,
    acting_user: Any,
    name: str,
    client_id: str,
    jwks_text: str,
    scopes_text: str,
    kind: str,
    patient: Patient | None,
) -> SmartClient:
    """Register a program with its own account (role client, no password, inactive: it can
    never sign in nor hold an API token; it is the audit trail's actor for the program)."""
    require(acting_user, "user.manage")
    errors: dict[str, list[str]] = {}
    if not CLIENT_ID.match(client_id):
        errors["client_id"] = ["3-64 letters, digits, dots, dashes or underscores."]
    elif SmartClient.objects.filter(client_id=client_id).exists():
        errors["client_id"] = ["A program with this client id is registered already."]
    if kind not in ClientKind.values:
        errors["kind"] = ["Choose the whole clinic or one patient."]
    elif (kind == ClientKind.PATIENT) != (patient is not None):
        errors["patient"] = ["Give the patient for a one-patient program, and only then."]
    _checked(errors, jwks_text, scopes_text, kind)
    if errors:
        raise ValidationError(errors)
    account = User(
        username=f"smart.{client_id}"[:150],
        first_name=name[:150],
        role=Role.CLIENT,
        is_active=False,
    )
    account.set_unusable_password()
    account.full_clean()
    account.save()
    client = SmartClient(
        client_id=client_id,
        name=name,
        jwks_json=jwks_check(jwks_text),
        allowed_scopes=scopes_check(scopes_text, kind),
        kind=kind,
        patient=patient,
        account=account,
        created_by=acting_user,
    )
    client.full_clean()
    client.save()
    _audit(acting_user, Action.CREATE, client)
    return client


@transaction.atomic
def smart_client_change(
    *,
    acting_user: Any,
    client: SmartClient,
    name: str,
    jwks_text: str,
    scopes_text: str,
    active: bool,
) -> SmartClient:
    """New keys (rotation), scopes or name; ``active=False`` ends its tokens at once."""
    require(acting_user, "user.manage")
    errors: dict[str, list[str]] = {}
    _checked(errors, jwks_text, scopes_text, client.kind)
    if errors:
        raise ValidationError(errors)
    client.name = name
    client.jwks_json = jwks_check(jwks_text)
    client.allowed_scopes = scopes_check(scopes_text, client.kind)
    client.active = active
    client.updated_at = timezone.now()
    client.full_clean()
    client.save(update_fields=["name", "jwks_json", "allowed_scopes", "active", "updated_at"])
    if not active:
        client.tokens.all().delete()
    _audit(acting_user, Action.UPDATE, client)
    return client
