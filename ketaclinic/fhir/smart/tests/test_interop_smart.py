"""A real FHIR client (fhirpy) with a token from the backend-services flow, against the live
test server: it reads what the scopes allow and is refused the rest."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import BaseFHIRError, ForbiddenError, ResourceNotFound
from pytest_django.live_server_helper import LiveServer

from ketaclinic.fhir.smart.tests.keys import assertion, register
from ketaclinic.fhir.smart.tokens import ASSERTION_TYPE
from ketaclinic.fhir.tests.helpers import response_body
from ketaclinic.testing import Clinic, make_clinic

pytestmark = pytest.mark.django_db(transaction=True)


def _token(clinic: Clinic, server: str, scopes: str, patient: Any = None) -> str:
    config = requests.get(f"{server}/fhir/R4/.well-known/smart-configuration", timeout=10).json()
    token_url = config["token_endpoint"]
    client, key = register(clinic, scopes, patient=patient)
    answer = requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(client, key, aud=token_url),
            "scope": scopes,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_fhirpy_with_a_backend_services_token(
    transactional_db: Any, live_server: LiveServer
) -> None:
    clinic = make_clinic()
    base = f"{live_server.url}/fhir/R4"
    writer = _token(clinic, live_server.url, "system/QuestionnaireResponse.cr")
    scales = SyncFHIRClient(base, authorization=f"Bearer {writer}")
    for patient in (clinic.pat, clinic.quinn):
        created = scales.resource(
            "QuestionnaireResponse", **response_body("gad7", patient.pk, [1] * 7)
        )
        created.save()
        assert created["id"]
    reader = SyncFHIRClient(
        base, authorization=f"Bearer {_token(clinic, live_server.url, 'system/Observation.rs')}"
    )
    scores = reader.resources("Observation").search(patient=str(clinic.pat.pk))
    assert scores.count() == 1
    assert scores.fetch_all()[0]["subject"]["reference"] == f"Patient/{clinic.pat.pk}"
    with pytest.raises((ForbiddenError, BaseFHIRError)):
        reader.reference("Patient", str(clinic.pat.pk)).to_resource()
    with pytest.raises((ForbiddenError, BaseFHIRError)):
        reader.resource(
            "QuestionnaireResponse", **response_body("gad7", clinic.pat.pk, [2] * 7)
        ).save()
    one = SyncFHIRClient(
        base,
        authorization=f"Bearer {_token(clinic, live_server.url, 'patient/*.rs', clinic.quinn)}",
    )
    assert [p["id"] for p in one.resources("Patient").fetch_all()] == [str(clinic.quinn.pk)]
    assert one.resources("Observation").search(patient=str(clinic.quinn.pk)).count() == 1
    with pytest.raises((ResourceNotFound, BaseFHIRError)):
        one.reference("Patient", str(clinic.pat.pk)).to_resource()
