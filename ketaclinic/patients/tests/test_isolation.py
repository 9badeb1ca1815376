"""A patient user cannot read, list or change another patient, through pages or API (404).

For Pat, Quinn's record must look exactly like one that does not exist: the same status and the
same body, so that not even its existence leaks.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

PATIENTS = "/api/v1/patients"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The personas' passwords play no part here; Argon2 would make each test take a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _row(patient: Patient) -> dict[str, object]:
    return dict(Patient.objects.filter(pk=patient.pk).values().get())


def _edit_form(patient: Patient, **changes: str) -> dict[str, str]:
    """A complete, valid edit form for the patient, as the browser would post it."""
    form = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "email": patient.email,
        "phone": patient.phone,
        "address": patient.address,
        "emergency_contact": patient.emergency_contact,
    }
    form.update(changes)
    return form


def _same_answer(response: Any, missing: Any) -> None:
    assert response.status_code == 404
    assert missing.status_code == 404
    assert response.content == missing.content
    assert response["Content-Type"] == missing["Content-Type"]


def _shown_patients(content: str, clinic: Clinic) -> set[str]:
    """Which of the two personas' records a list shows in its rows, by MRN, id or family name.

    Only the rows count: the search box echoes the query, which may be Quinn's name or MRN.
    """
    if '<tbody id="patient-rows">' in content:
        content = content.split('<tbody id="patient-rows">', 1)[1].split("</tbody>", 1)[0]
    shown = set()
    for name, patient in (("pat", clinic.pat), ("quinn", clinic.quinn)):
        if any(mark in content for mark in (patient.mrn, str(patient.pk), patient.family_name)):
            shown.add(name)
    return shown


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "edit/"], ids=["detail", "edit"])
def test_pat_gets_404_for_quinns_page_exactly_as_for_a_missing_one(
    clinic: Clinic, suffix: str
) -> None:
    pat = clinic.client("pat")
    response = pat.get(f"/patients/{clinic.quinn.pk}/{suffix}")
    missing = pat.get(f"/patients/{uuid.uuid4()}/{suffix}")
    _same_answer(response, missing)
    assert clinic.quinn.mrn not in response.content.decode()


def test_pat_posting_quinns_edit_form_gets_404_exactly_as_for_a_missing_one(
    clinic: Clinic,
) -> None:
    before = _row(clinic.quinn)
    pat = clinic.client("pat")
    form = _edit_form(clinic.quinn, given_name="Hijacked", phone="555-6666")
    response = pat.post(f"/patients/{clinic.quinn.pk}/edit/", form)
    missing = pat.post(f"/patients/{uuid.uuid4()}/edit/", form)
    _same_answer(response, missing)
    assert _row(clinic.quinn) == before


def test_the_staff_list_page_is_refused_to_a_patient(clinic: Clinic) -> None:
    response = clinic.client("pat").get("/patients/")
    assert response.status_code == 403
    assert _shown_patients(response.content.decode(), clinic) == set()


@pytest.mark.parametrize(
    "query", ["Quinn", "quinn", "Sample", "Quinn Sample", "MRN"], ids=lambda q: q.replace(" ", "_")
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx_rows"])
def test_pat_searching_the_list_page_for_quinn_finds_nothing(
    clinic: Clinic, query: str, htmx: bool
) -> None:
    q = clinic.quinn.mrn if query == "MRN" else query
    headers = {"HX-Request": "true"} if htmx else {}
    response = clinic.client("pat").post("/patients/", {"q": q}, headers=headers)
    assert response.status_code == 403  # a staff page: the patient has the portal
    assert _shown_patients(response.content.decode(), clinic) == set()


def test_pat_searching_the_list_page_for_themselves_is_refused(clinic: Clinic) -> None:
    response = clinic.client("pat").post("/patients/", {"q": clinic.pat.mrn})
    assert response.status_code == 403
    assert _shown_patients(response.content.decode(), clinic) == set()


def test_pat_reads_their_own_record_in_the_portal_never_the_staff_page(clinic: Clinic) -> None:
    pat = clinic.client("pat")
    staff_page = pat.get(f"/patients/{clinic.pat.pk}/")
    assert staff_page.status_code == 404  # exactly as for an id that does not exist
    assert clinic.pat.mrn not in staff_page.content.decode()
    portal = pat.get("/portal/contact/")
    assert portal.status_code == 200
    content = portal.content.decode()
    assert clinic.pat.email in content
    assert clinic.pat.mrn not in content
    assert f"/patients/{clinic.pat.pk}/edit/" not in content


def test_pat_cannot_change_their_own_record_through_the_page(clinic: Clinic) -> None:
    before = _row(clinic.pat)
    pat = clinic.client("pat")
    assert pat.get(f"/patients/{clinic.pat.pk}/edit/").status_code == 403
    form = _edit_form(clinic.pat, phone="555-7777")
    assert pat.post(f"/patients/{clinic.pat.pk}/edit/", form).status_code == 403
    assert _row(clinic.pat) == before


# --- API -------------------------------------------------------------------------------------


def test_pat_gets_404_for_quinn_through_the_api_exactly_as_for_a_missing_one(
    clinic: Clinic,
) -> None:
    api = clinic.api("pat")
    response = api.get(f"{PATIENTS}/{clinic.quinn.pk}")
    missing = api.get(f"{PATIENTS}/{uuid.uuid4()}")
    _same_answer(response, missing)
    assert response.json()["detail"] == "Not found"


@pytest.mark.parametrize(
    "body",
    [{"given_name": "Hijacked"}, {"phone": "555-6666", "email": "pat@example.org"}, {}],
    ids=["name", "contact", "empty"],
)
def test_pat_patching_quinn_through_the_api_gets_404_exactly_as_for_a_missing_one(
    clinic: Clinic, body: dict[str, str]
) -> None:
    before = _row(clinic.quinn)
    api = clinic.api("pat")
    raw = json.dumps(body)
    response = api.patch(f"{PATIENTS}/{clinic.quinn.pk}", raw, content_type="application/json")
    missing = api.patch(f"{PATIENTS}/{uuid.uuid4()}", raw, content_type="application/json")
    _same_answer(response, missing)
    assert _row(clinic.quinn) == before


def test_pat_patching_quinn_with_bad_input_answers_as_for_a_missing_one(clinic: Clinic) -> None:
    # Validation answers before the access check; it must not tell the two ids apart either.
    api = clinic.api("pat")
    raw = json.dumps({"given_name": 42})
    response = api.patch(f"{PATIENTS}/{clinic.quinn.pk}", raw, content_type="application/json")
    missing = api.patch(f"{PATIENTS}/{uuid.uuid4()}", raw, content_type="application/json")
    assert response.status_code == missing.status_code
    assert response.content == missing.content


@pytest.mark.parametrize("query", ["", "Quinn", "quinn", "Sample", "MRN", "KC"])
def test_pat_listing_through_the_api_gets_only_their_own_record(clinic: Clinic, query: str) -> None:
    q = clinic.quinn.mrn if query == "MRN" else query
    response = clinic.api("pat").get(PATIENTS, {"q": q})
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()]
    assert str(clinic.quinn.pk) not in ids
    assert ids == ([str(clinic.pat.pk)] if query == "" else [])


def test_pat_listing_through_the_api_by_their_own_mrn_finds_it(clinic: Clinic) -> None:
    response = clinic.api("pat").get(PATIENTS, {"q": clinic.pat.mrn})
    assert [row["id"] for row in response.json()] == [str(clinic.pat.pk)]


def test_pat_can_read_their_own_record_through_the_api(clinic: Clinic) -> None:
    response = clinic.api("pat").get(f"{PATIENTS}/{clinic.pat.pk}")
    assert response.status_code == 200
    assert response.json()["mrn"] == clinic.pat.mrn


def test_pat_cannot_change_their_own_record_through_the_api(clinic: Clinic) -> None:
    before = _row(clinic.pat)
    response = clinic.api("pat").patch(
        f"{PATIENTS}/{clinic.pat.pk}",
        json.dumps({"phone": "555-7777"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Forbidden"
    assert _row(clinic.pat) == before


# --- all of it together ----------------------------------------------------------------------


def test_quinns_record_is_unchanged_and_unlisted_after_every_attempt_by_pat(
    clinic: Clinic,
) -> None:
    quinn = clinic.quinn
    before = _row(quinn)
    pat_page: Client = clinic.client("pat")
    pat_api: Client = clinic.api("pat")
    change = json.dumps({"given_name": "Hijacked"})
    statuses = [
        pat_page.get(f"/patients/{quinn.pk}/").status_code,
        pat_page.get(f"/patients/{quinn.pk}/edit/").status_code,
        pat_page.post(f"/patients/{quinn.pk}/edit/", _edit_form(quinn, given_name="X")).status_code,
        pat_api.get(f"{PATIENTS}/{quinn.pk}").status_code,
        pat_api.patch(
            f"{PATIENTS}/{quinn.pk}", change, content_type="application/json"
        ).status_code,
    ]
    assert statuses == [404] * 5
    for q in ("", "Quinn", quinn.mrn):
        assert pat_page.post("/patients/", {"q": q}).status_code == 403
        assert pat_api.get(PATIENTS, {"q": q}).status_code == 200

    assert _row(quinn) == before
    pat_user = clinic.users["pat"]
    assert not AuditEvent.objects.filter(patient_id=quinn.pk, actor=pat_user).exists()
    assert not AuditEvent.objects.filter(
        patient_id=quinn.pk, action__in=[Action.UPDATE, Action.DELETE]
    ).exists()
