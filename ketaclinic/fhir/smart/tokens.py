"""The token endpoint's work: verify a client's signed assertion, grant scopes, issue a token.

SMART Backend Services (HL7 smart-app-launch, ``backend-services.md``; interop.md section 5):
``grant_type=client_credentials``, ``client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and ``client_assertion``, a JWT signed
with RS384 or ES384 by a key of the client's registered JWKS (``kid`` in its header), with
``iss`` = ``sub`` = the client id, ``aud`` = this token endpoint's URL, ``exp`` no more than
five minutes ahead and a ``jti`` never used before (kept here until the assertion expires).
The signature and the claims are checked by joserfc; none of the cryptography is ours.
Errors are RFC 6749 section 5.2's."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.fhir.smart.models import SmartAccessToken, SmartClient, UsedAssertion
from ketaclinic.fhir.smart.rules.scopes import scope_parse, scopes_intersect, scopes_parse

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
ASSERTION_MAX_SECONDS = 300  # backend-services.md: exp "no more than five minutes in the future"
LEEWAY_SECONDS = 60  # clock skew allowed on exp, iat and nbf
TOKEN_SECONDS = 300  # backend-services.md: access tokens SHOULD live no longer than 5 minutes
TOKEN_PREFIX = "kcs_"  # noqa: S105  a label, not a secret; tells a SMART access token from an API token (ketaclinic apitoken)


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error: ``error`` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Issued:
    access_token: str
    scope: str
    expires_in: int
    client: SmartClient


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _unverified(assertion: str) -> tuple[dict[str, object], dict[str, object]]:
    """Header and claims before the signature is checked: only to find the client and key."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise OAuthError("invalid_client", "client_assertion is not a signed JWT") from None
    if not isinstance(claims, dict):
        raise OAuthError("invalid_client", "client_assertion's claims are not an object")
    return dict(compact.headers()), claims


def _client(claims: dict[str, object]) -> SmartClient:
    client_id = claims.get("iss")
    client = (
        SmartClient.objects.select_related("account").filter(client_id=client_id).first()
        if isinstance(client_id, str)
        else None
    )
    if client is None or not client.active:
        raise OAuthError("invalid_client", "no active program is registered with this iss", 401)
    return client


def _verified(assertion: str, client: SmartClient, header: dict[str, object]) -> jwt.Token:
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OAuthError("invalid_client", f"alg must be one of {', '.join(ALGORITHMS)}", 401)
    keys = KeySet.import_key_set(json.loads(client.jwks_json))
    kid = header.get("kid")
    matching = [k for k in keys.keys if k.kid == kid] if isinstance(kid, str) else []
    if not matching:
        raise OAuthError("invalid_client", "no key of this program has the assertion's kid", 401)
    try:
        return jwt.decode(assertion, matching[0], algorithms=[str(alg)])
    except JoseError:
        raise OAuthError(
            "invalid_client", "the assertion's signature does not verify", 401
        ) from None


def _claims_check(token: jwt.Token, client: SmartClient, token_url: str, now: int) -> datetime:
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": client.client_id},
        sub={"essential": True, "value": client.client_id},
        aud={"essential": True, "value": token_url},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise OAuthError("invalid_client", f"assertion claims refused: {exc.error}", 401) from None
    exp = claims["exp"]
    if not isinstance(exp, int) or exp > now + ASSERTION_MAX_SECONDS + LEEWAY_SECONDS:
        raise OAuthError("invalid_client", "exp must be at most five minutes ahead", 401)
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 255:
        raise OAuthError("invalid_client", "jti must be a string of 1-255 characters", 401)
    return datetime.fromtimestamp(exp, UTC)


def _jti_use(client: SmartClient, jti: str, expires_at: datetime) -> None:
    """Keep the jti until the assertion expires; a second use is refused."""
    forgotten = timezone.now() - timedelta(seconds=LEEWAY_SECONDS)
    UsedAssertion.objects.filter(expires_at__lt=forgotten).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires_at)
    except IntegrityError:
        raise OAuthError("invalid_client", "this assertion's jti was used already", 401) from None


def _granted(requested: str, client: SmartClient) -> str:
    scopes, problems = scopes_parse(requested)
    if problems:
        raise OAuthError("invalid_scope", "; ".join(problems))
    if not scopes:
        raise OAuthError("invalid_scope", "scope is required")
    allowed = [scope_parse(s) for s in client.allowed_scopes.split()]
    granted = scopes_intersect(scopes, allowed)
    if not granted:
        raise OAuthError("invalid_scope", "none of the requested scopes is allowed to this program")
    return " ".join(str(s) for s in granted)


def access_token_issue(
    *,
    grant_type: str,
    assertion_type: str,
    assertion: str,
    scope: str,
    token_url: str,
) -> Issued:
    """Check the request and the assertion; store and return a new access token."""
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    if assertion_type != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is required")
    header, claims = _unverified(assertion)
    client = _client(claims)
    token = _verified(assertion, client, header)
    now = int(timezone.now().timestamp())
    expires_at = _claims_check(token, client, token_url, now)
    granted = _granted(scope, client)
    _jti_use(client, str(token.claims["jti"]), expires_at)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        SmartAccessToken.objects.filter(expires_at__lt=timezone.now()).delete()
        stored = SmartAccessToken.objects.create(
            client=client,
            token_hash=token_hash(raw),
            scope=granted,
            expires_at=timezone.now() + timedelta(seconds=TOKEN_SECONDS),
        )
        # The program, as its own account, was given a token (an execute event; no data read).
        audit_record(
            actor=client.account,
            action=Action.EXECUTE,
            object_type="SmartAccessToken",
            object_id=stored.pk,
            patient_id=client.patient_id,
        )
    return Issued(raw, granted, TOKEN_SECONDS, client)
