"""The token endpoint: client_credentials with a signed JWT assertion (RS384, ES384), each
way an assertion can be wrong refused with RFC 6749's error, scopes granted as the
intersection of requested and allowed, v1 scopes mapped; the discovery document."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.fhir.smart.models import SmartAccessToken
from ketaclinic.fhir.smart.tests.keys import (
    assertion,
    jwks,
    key_pair,
    register,
    token_request,
)
from ketaclinic.fhir.smart.tokens import TOKEN_SECONDS, token_hash
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _refused(answer: Any, error: str) -> None:
    assert answer.status_code in (400, 401), answer.content
    body = answer.json()
    assert body["error"] == error, body
    assert body["error_description"]
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_signed_assertion_gets_a_short_lived_token(clinic: Clinic, alg: str) -> None:
    client, key = register(clinic, "system/Observation.rs system/Patient.rs", alg=alg)
    answer = token_request(Client(), assertion(client, key), "system/Observation.rs")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TOKEN_SECONDS <= 300
    assert body["scope"] == "system/Observation.rs"
    assert answer["Cache-Control"] == "no-store"
    stored = SmartAccessToken.objects.get(client=client)
    assert stored.token_hash == token_hash(body["access_token"])  # only the hash is kept
    assert body["access_token"] not in stored.token_hash
    issued = AuditEvent.objects.get(object_type="SmartAccessToken")
    assert (issued.actor_id, issued.actor_role, issued.action) == (
        client.account_id,
        "client",
        Action.EXECUTE,
    )
    assert audit_verify() is None


def test_granted_scopes_are_the_intersection_and_v1_is_mapped(clinic: Clinic) -> None:
    client, key = register(clinic, "system/Observation.read system/Patient.r")
    answer = token_request(Client(), assertion(client, key), "system/*.read system/Flag.rs")
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"].split() == ["system/Observation.rs", "system/Patient.r"]
    assert client.allowed_scopes == "system/Observation.rs system/Patient.r"  # stored as v2


def test_no_allowed_scope_or_a_bad_one_is_invalid_scope(clinic: Clinic) -> None:
    client, key = register(clinic, "system/Observation.rs")
    _refused(token_request(Client(), assertion(client, key), "system/Patient.rs"), "invalid_scope")
    _refused(token_request(Client(), assertion(client, key), "system/Patient.dus"), "invalid_scope")
    _refused(token_request(Client(), assertion(client, key), ""), "invalid_scope")


def test_a_replayed_jti_is_refused(clinic: Clinic) -> None:
    client, key = register(clinic, "system/Observation.rs")
    signed = assertion(client, key)
    assert token_request(Client(), signed, "system/Observation.rs").status_code == 200
    _refused(token_request(Client(), signed, "system/Observation.rs"), "invalid_client")
    again = assertion(client, key, jti=uuid.uuid4().hex)  # a new jti is fine
    assert token_request(Client(), again, "system/Observation.rs").status_code == 200


@pytest.mark.parametrize(
    ("what", "make"),
    [
        ("wrong aud", lambda c, k: assertion(c, k, aud="https://other.example/token")),
        ("expired", lambda c, k: assertion(c, k, exp=int(timezone.now().timestamp()) - 120)),
        (
            "exp too far ahead",
            lambda c, k: assertion(c, k, exp=int(timezone.now().timestamp()) + 3600),
        ),
        ("no exp", lambda c, k: assertion(c, k, exp=None)),
        ("no jti", lambda c, k: assertion(c, k, jti=None)),
        ("sub is not iss", lambda c, k: assertion(c, k, sub="someone-else")),
        ("unknown kid", lambda c, k: assertion(c, k, header={"kid": "not-registered"})),
        ("unknown iss", lambda c, k: assertion(c, k, iss="nobody", sub="nobody")),
        ("bad signature", lambda c, k: assertion(c, key_pair("RS384", kid=k.kid))),
        ("HS256", lambda c, k: "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"),
        ("not a JWT", lambda c, k: "not-a-jwt"),
    ],
)
def test_bad_assertions_are_invalid_client(clinic: Clinic, what: str, make: Any) -> None:
    client, key = register(clinic, "system/Observation.rs")
    answer = token_request(Client(), make(client, key), "system/Observation.rs")
    _refused(answer, "invalid_client")
    assert not SmartAccessToken.objects.exists(), what


def test_a_signature_by_another_algorithm_key_is_refused(clinic: Clinic) -> None:
    """RS384 header over a key registered as EC: the registered key does not verify it."""
    client, ec_key = register(clinic, "system/Observation.rs", alg="ES384")
    rsa = key_pair("RS384", kid=ec_key.kid)
    _refused(
        token_request(Client(), assertion(client, rsa), "system/Observation.rs"), "invalid_client"
    )


def test_wrong_grant_and_assertion_types(clinic: Clinic) -> None:
    client, key = register(clinic, "system/Observation.rs")
    signed = assertion(client, key)
    _refused(
        token_request(Client(), signed, "system/Observation.rs", grant_type="password"),
        "unsupported_grant_type",
    )
    _refused(
        token_request(Client(), signed, "system/Observation.rs", client_assertion_type="x"),
        "invalid_request",
    )
    assert Client().get("/fhir/R4/auth/token").status_code == 405


def test_an_inactive_program_gets_no_token_and_its_tokens_stop(clinic: Clinic) -> None:
    from ketaclinic.fhir.smart.services import smart_client_change

    client, key = register(clinic, "system/Observation.rs")
    answer = token_request(Client(), assertion(client, key), "system/Observation.rs")
    token = answer.json()["access_token"]
    url = f"/fhir/R4/Observation?patient={clinic.pat.pk}"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(url).status_code == 200
    smart_client_change(
        acting_user=clinic.users["dana"],
        client=client,
        name=client.name,
        jwks_text=client.jwks_json,
        scopes_text=client.allowed_scopes,
        active=False,
    )
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(url).status_code == 401
    _refused(
        token_request(Client(), assertion(client, key), "system/Observation.rs"), "invalid_client"
    )


def test_an_expired_access_token_is_refused(clinic: Clinic) -> None:
    client, key = register(clinic, "system/Observation.rs")
    token = token_request(Client(), assertion(client, key), "system/Observation.rs").json()[
        "access_token"
    ]
    SmartAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(
        f"/fhir/R4/Observation?patient={clinic.pat.pk}"
    )
    assert answer.status_code == 401
    assert answer.json()["resourceType"] == "OperationOutcome"


def test_registration_refuses_private_keys_bad_scopes_and_wrong_contexts(clinic: Clinic) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from ketaclinic.fhir.smart.services import smart_client_register

    key = key_pair("ES384")
    base: dict[str, Any] = {
        "acting_user": clinic.users["dana"],
        "name": "x",
        "client_id": "lab-feed",
        "jwks_text": jwks(key),
        "scopes_text": "system/Observation.rs",
        "kind": "system",
        "patient": None,
    }
    private = json.dumps({"keys": [key.as_dict(private=True)]})
    for change, field in (
        ({"jwks_text": private}, "jwks"),
        ({"jwks_text": '{"keys": []}'}, "jwks"),
        ({"jwks_text": "https://lab.example/jwks.json"}, "jwks"),
        ({"scopes_text": "patient/*.rs"}, "scopes"),
        ({"scopes_text": "system/Observation.sr"}, "scopes"),
        ({"client_id": "a b"}, "client_id"),
        ({"kind": "patient"}, "patient"),
    ):
        with pytest.raises(ValidationError) as refused:
            smart_client_register(**(base | change))
        assert field in refused.value.message_dict, change
    with pytest.raises(PermissionDenied):  # only the administrator registers programs
        smart_client_register(**(base | {"acting_user": clinic.users["ada"]}))


def test_smart_configuration_has_the_required_fields(clinic: Clinic) -> None:
    answer = Client().get("/fhir/R4/.well-known/smart-configuration")
    assert answer.status_code == 200
    config = answer.json()
    assert config["token_endpoint"] == "http://testserver/fhir/R4/auth/token"
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert config["grant_types_supported"] == ["client_credentials"]
    assert "system/Observation.rs" in config["scopes_supported"]
    assert {"client-confidential-asymmetric", "permission-v2", "permission-v1"} <= set(
        config["capabilities"]
    )
    # and the endpoint it names is the one that answers
    client, key = register(clinic, "system/Observation.rs")
    signed = assertion(client, key, aud=config["token_endpoint"])
    assert token_request(Client(), signed, "system/Observation.rs").status_code == 200


def test_the_capability_statement_names_the_smart_service(clinic: Clinic) -> None:
    answer = clinic.api("ada").get("/fhir/R4/metadata")
    statement = CapabilityStatement.model_validate_json(answer.content)
    assert statement.rest is not None
    security = statement.rest[0].security
    assert security is not None and security.service is not None
    assert security.service[0].coding is not None
    assert security.service[0].coding[0].code == "SMART-on-FHIR"
    uris = answer.json()["rest"][0]["security"]["extension"][0]
    assert uris["extension"][0] == {
        "url": "token",
        "valueUri": "http://testserver/fhir/R4/auth/token",
    }
