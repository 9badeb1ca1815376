"""The administrator's pages for programs, through the test client: registering is audited
with the administrator as actor (and the patient for a one-patient program); turning a
program off ends its tokens; its account never appears among the staff accounts."""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.fhir.smart.models import SmartAccessToken, SmartClient
from ketaclinic.fhir.smart.tests.keys import access_token, jwks, key_pair, program
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def test_registering_in_the_page_is_audited_and_the_account_is_not_staff(clinic: Clinic) -> None:
    dana = clinic.client("dana")
    answer = dana.post(
        "/setup/programs/",
        {
            "name": "Hospital referral feed",
            "client_id": "hospital.feed",
            "kind": "patient",
            "patient_mrn": clinic.quinn.mrn,
            "scopes": "patient/Observation.read",
            "jwks": jwks(key_pair("RS384")),
        },
    )
    assert answer.status_code == 302, answer.content
    client = SmartClient.objects.get(client_id="hospital.feed")
    assert (client.patient_id, client.allowed_scopes) == (clinic.quinn.pk, "patient/Observation.rs")
    event = AuditEvent.objects.get(object_type="SmartClient")
    assert (event.actor_id, event.action, event.patient_id) == (
        clinic.users["dana"].pk,
        Action.CREATE,
        clinic.quinn.pk,
    )
    staff = dana.get("/setup/users/")
    assert b"smart.hospital.feed" not in staff.content
    assert dana.get(f"/setup/users/{client.account_id}/").status_code == 404


def test_a_wrong_mrn_or_scope_context_is_refused_beside_its_field(clinic: Clinic) -> None:
    dana = clinic.client("dana")
    form = {
        "name": "x",
        "client_id": "feed-x",
        "kind": "patient",
        "patient_mrn": "NOPE",
        "scopes": "patient/*.rs",
        "jwks": jwks(key_pair("ES384")),
    }
    answer = dana.post("/setup/programs/", form)
    assert answer.status_code == 422
    assert b"No patient has this MRN." in answer.content
    answer = dana.post(
        "/setup/programs/", form | {"kind": "system", "patient_mrn": "", "scopes": "patient/*.rs"}
    )
    assert answer.status_code == 422
    assert b"system/ scopes only" in answer.content
    assert not SmartClient.objects.exists()


def test_turning_a_program_off_in_its_page_ends_its_tokens(clinic: Clinic) -> None:
    token = access_token(clinic, "system/Observation.rs")
    client = SmartClient.objects.get()
    url = f"/fhir/R4/Observation?patient={clinic.pat.pk}"
    assert program(token).get(url).status_code == 200
    dana = clinic.client("dana")
    page = dana.get(f"/setup/programs/{client.pk}/")
    assert page.status_code == 200 and client.client_id.encode() in page.content
    answer = dana.post(
        f"/setup/programs/{client.pk}/",
        {"name": client.name, "scopes": client.allowed_scopes, "jwks": client.jwks_json},
    )
    assert answer.status_code == 302
    assert not SmartAccessToken.objects.exists()
    assert program(token).get(url).status_code == 401
    assert Client().get(f"/setup/programs/{client.pk}/").status_code == 302
    assert clinic.client("ada").get(f"/setup/programs/{client.pk}/").status_code == 403
