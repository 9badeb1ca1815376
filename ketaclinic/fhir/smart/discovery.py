"""What the server publishes about SMART: ``/.well-known/smart-configuration`` under the FHIR
base, and the CapabilityStatement's ``rest.security`` (SMART App Launch v2, ``conformance``
page; interop.md section 5)."""

from __future__ import annotations

from typing import Any

from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.smart.tokens import ALGORITHMS

TOKEN_PATH = "auth/token"  # noqa: S105  a path, not a secret; under the FHIR base: /fhir/R4/auth/token
SMART_SERVICE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
            "display": "SMART-on-FHIR",
        }
    ],
    "text": "SMART Backend Services: client_credentials with a signed JWT (RS384, ES384)",
}
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def scopes_supported() -> list[str]:
    types = ["*", *TYPES, "Questionnaire", "Organization"]
    scopes = [f"{context}/{t}.rs" for context in ("system", "patient") for t in types]
    scopes += ["system/QuestionnaireResponse.c", "patient/QuestionnaireResponse.c"]
    return scopes


def smart_configuration(base_url: str) -> dict[str, Any]:
    """``base_url`` ends with ``/``: the FHIR base."""
    return {
        "token_endpoint": base_url + TOKEN_PATH,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": scopes_supported(),
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
    }


def capability_security(base_url: str) -> dict[str, Any]:
    """Members of the CapabilityStatement's ``rest.security`` for SMART."""
    return {
        "service": [SMART_SERVICE],
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [{"url": "token", "valueUri": base_url + TOKEN_PATH}],
            }
        ],
    }
