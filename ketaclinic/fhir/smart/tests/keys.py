"""Test helpers: a program's key pair (joserfc: RSA for RS384, EC P-384 for ES384), its
registration, signed assertions and tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ketaclinic.fhir.smart.models import ClientKind, SmartClient
from ketaclinic.fhir.smart.services import smart_client_register
from ketaclinic.fhir.smart.tokens import ASSERTION_TYPE
from ketaclinic.testing import Clinic

TOKEN_URL = "http://testserver/fhir/R4/auth/token"
Key = RSAKey | ECKey


def key_pair(alg: str = "RS384", kid: str | None = None) -> Key:
    params: Any = {"kid": kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}", "use": "sig", "alg": alg}
    if alg == "ES384":
        return ECKey.generate_key("P-384", parameters=params)
    return RSAKey.generate_key(2048, parameters=params)


def jwks(*keys: Key) -> str:
    return json.dumps({"keys": [k.as_dict(private=False) for k in keys]})


def register(
    clinic: Clinic,
    scopes: str,
    *,
    alg: str = "RS384",
    patient: Any = None,
    client_id: str | None = None,
) -> tuple[SmartClient, Key]:
    key = key_pair(alg)
    client = smart_client_register(
        acting_user=clinic.users["dana"],
        name="Registry export",
        client_id=client_id or f"registry-{uuid.uuid4().hex[:8]}",
        jwks_text=jwks(key),
        scopes_text=scopes,
        kind=ClientKind.PATIENT if patient is not None else ClientKind.SYSTEM,
        patient=patient,
    )
    return client, key


def assertion(
    client: SmartClient,
    key: Key,
    *,
    aud: str = TOKEN_URL,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(timezone.now().timestamp())
    body: dict[str, Any] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": aud,
        "exp": now + 240,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    body.update(claims)
    alg = str(key.as_dict(private=False).get("alg") or "RS384")
    head = {"alg": alg, "kid": key.kid, "typ": "JWT"} | (header or {})
    payload = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(head, payload, key, algorithms=[str(head["alg"])])


def token_request(http: Client, signed: str, scope: str, **form: str) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": scope,
    } | form
    return http.post("/fhir/R4/auth/token", data=data)


def access_token(clinic: Clinic, scopes: str, *, patient: Any = None, alg: str = "RS384") -> str:
    """Register a program allowed ``scopes``, ask for them, return the access token."""
    client, key = register(clinic, scopes, alg=alg, patient=patient)
    answer = token_request(Client(), assertion(client, key), scopes)
    assert answer.status_code == 200, answer.content
    token: str = answer.json()["access_token"]
    return token


def program(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")
