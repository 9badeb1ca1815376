"""Reading a patient through the API or a page leaves an audit event with action R; no audit
event contains a patient's name, birth date or contact details."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic, make_patient

PATIENTS = "/api/v1/patients"
REQUEST_ID = "test-request-0001"

# Query-count guards for the patient list; the same for 2 patients as for 20.
API_LIST_MAX_QUERIES = 10
# The page's rows add five fixed queries (flags, courses, next sessions, eligibility decisions,
# evaluations: patients.selectors.patient_rows), whatever the number of patients.
PAGE_LIST_MAX_QUERIES = 20


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The personas' passwords play no part here; Argon2 would make each test take a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def _events_after(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def _assert_one_read(events: list[AuditEvent], clinic: Clinic, patient: Patient) -> AuditEvent:
    assert len(events) == 1, [str(e) for e in events]
    event = events[0]
    assert event.action == Action.READ
    assert event.object_type == "Patient"
    assert event.object_id == str(patient.pk)
    assert event.patient_id == patient.pk
    assert event.actor_id == clinic.users["ada"].pk
    assert event.actor_role == "clinician"
    assert event.client_address == "127.0.0.1"
    assert event.request_id
    return event


# --- one read, one event ---------------------------------------------------------------------


def test_reading_a_patient_through_the_api_records_one_read_event(clinic: Clinic) -> None:
    api = clinic.api("ada")
    seq = _last_seq()
    response = api.get(f"{PATIENTS}/{clinic.quinn.pk}", headers={"X-Request-ID": REQUEST_ID})
    assert response.status_code == 200
    event = _assert_one_read(_events_after(seq), clinic, clinic.quinn)
    # The app's own id, never the client's (issue 18 item 10).
    assert event.request_id == response["X-Request-ID"] != REQUEST_ID


def test_reading_a_patient_page_records_one_read_event(clinic: Clinic) -> None:
    page = clinic.client("ada")
    seq = _last_seq()
    response = page.get(f"/patients/{clinic.quinn.pk}/")
    assert response.status_code == 200
    event = _assert_one_read(_events_after(seq), clinic, clinic.quinn)
    assert event.request_id == response["X-Request-ID"]


def test_opening_the_edit_page_records_one_read_event(clinic: Clinic) -> None:
    page = clinic.client("ada")
    seq = _last_seq()
    assert page.get(f"/patients/{clinic.pat.pk}/edit/").status_code == 200
    _assert_one_read(_events_after(seq), clinic, clinic.pat)


def test_each_request_gets_its_own_request_id(clinic: Clinic) -> None:
    api = clinic.api("ada")
    seq = _last_seq()
    api.get(f"{PATIENTS}/{clinic.pat.pk}")
    api.get(f"{PATIENTS}/{clinic.pat.pk}")
    first, second = _events_after(seq)
    assert first.request_id
    assert first.request_id != second.request_id


def test_a_refused_or_missing_read_records_no_read_event(clinic: Clinic) -> None:
    seq = _last_seq()
    assert clinic.api("pat").get(f"{PATIENTS}/{clinic.quinn.pk}").status_code == 404
    assert clinic.client("pat").get(f"/patients/{clinic.quinn.pk}/").status_code == 404
    assert not [e for e in _events_after(seq) if e.action == Action.READ]


# --- lists: one event per patient listed -----------------------------------------------------


def test_listing_through_the_api_records_a_read_event_per_listed_patient(clinic: Clinic) -> None:
    api = clinic.api("ada")
    seq = _last_seq()
    response = api.get(PATIENTS, headers={"X-Request-ID": REQUEST_ID})
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()}
    assert listed == {str(clinic.pat.pk), str(clinic.quinn.pk)}
    events = _events_after(seq)
    assert sorted(str(e.patient_id) for e in events) == sorted(listed)
    assert {(e.action, e.object_type, e.actor_role, e.request_id) for e in events} == {
        (Action.READ, "Patient", "clinician", response["X-Request-ID"])
    }
    assert response["X-Request-ID"] != REQUEST_ID


def test_the_list_page_records_a_read_event_per_listed_patient(clinic: Clinic) -> None:
    page = clinic.client("ada")
    seq = _last_seq()
    response = page.get("/patients/")
    assert response.status_code == 200
    events = _events_after(seq)
    assert {e.patient_id for e in events} == {clinic.pat.pk, clinic.quinn.pk}
    assert len(events) == 2
    assert {e.action for e in events} == {Action.READ}
    assert {e.request_id for e in events} == {response["X-Request-ID"]}


def test_searching_records_reads_only_of_the_patients_found(clinic: Clinic) -> None:
    seq = _last_seq()
    assert clinic.client("ada").post("/patients/", {"q": "Quinn"}).status_code == 200
    _assert_one_read(_events_after(seq), clinic, clinic.quinn)
    seq = _last_seq()
    assert clinic.api("ada").get(PATIENTS, {"q": clinic.pat.mrn}).status_code == 200
    _assert_one_read(_events_after(seq), clinic, clinic.pat)
    seq = _last_seq()
    assert clinic.api("ada").get(PATIENTS, {"q": "Nobody"}).json() == []
    assert _events_after(seq) == []


def _add_patients(count: int) -> None:
    for i in range(count):
        make_patient(given_name=f"Extra{i}", family_name=f"Listed{i:02d}", email="")


def test_the_list_api_takes_the_same_few_queries_for_2_and_20_patients(
    clinic: Clinic, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    api = clinic.api("ada")
    counts = []
    for total in (2, 20):
        _add_patients(total - Patient.objects.count())
        with django_assert_max_num_queries(API_LIST_MAX_QUERIES) as queries:
            response = api.get(PATIENTS)
        assert response.status_code == 200
        assert len(response.json()) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("method", ["get", "post"], ids=["list", "search"])
def test_the_list_page_takes_the_same_few_queries_for_2_and_20_patients(
    clinic: Clinic, django_assert_max_num_queries: Callable[..., Any], method: str
) -> None:
    page = clinic.client("ada")
    counts = []
    for total in (2, 20):
        _add_patients(total - Patient.objects.count())
        seq = _last_seq()
        with django_assert_max_num_queries(PAGE_LIST_MAX_QUERIES) as queries:
            if method == "get":
                response = page.get("/patients/")
            else:  # every patient's MRN starts with KC, but the search wants whole words
                response = page.post("/patients/", {"q": "e"})
        assert response.status_code == 200
        assert len(_events_after(seq)) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- no patient data in any event ------------------------------------------------------------


def _date_forms(day: date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d.%m.%Y"),
        day.strftime("%d-%m-%Y"),
        f"{day.day} {day.strftime('%B')} {day.year}",
        f"{day.strftime('%B')} {day.day}, {day.year}",
        f"{day.day} {day.strftime('%b')} {day.year}",
    ]


def _personal_data(patient: Patient) -> tuple[list[str], list[str]]:
    """(names, other text) that identify the patient; names are matched as whole words."""
    names = [patient.given_name, patient.family_name]
    texts = [
        *_date_forms(patient.birth_date),
        patient.email,
        patient.phone,
        patient.address,
        patient.emergency_contact,
        *patient.address.split(", "),
        *patient.emergency_contact.split(", "),
    ]
    return [n for n in names if n], [t for t in texts if t]


def _leaks(events: list[AuditEvent], names: set[str], texts: set[str]) -> list[str]:
    found = []
    name_patterns = [re.compile(rf"\b{re.escape(n)}\b", re.IGNORECASE) for n in names]
    fields = AuditEvent._meta.concrete_fields
    for event in events:
        for field in fields:
            value = str(getattr(event, field.attname))
            for pattern in name_patterns:
                if pattern.search(value):
                    found.append(f"#{event.seq} {field.name}={value!r} has {pattern.pattern}")
            for text in texts:
                if text.lower() in value.lower():
                    found.append(f"#{event.seq} {field.name}={value!r} has {text!r}")
    return found


NEW_PATIENT = {
    "given_name": "Marisol",
    "family_name": "Vandersloot",
    "birth_date": "1961-07-23",
    "sex_at_birth": "female",
    "pronouns": "she/her",
    "email": "marisol.v@example.net",
    "phone": "+1 555 0177",
    "address": "77 Hypothetical Lane, Mocktown",
    "emergency_contact": "Teodor Vandersloot, brother, 555-0178",
    "referring_provider": "Dr Ignatius Placeholder",
}
PAGE_PATIENT = {
    "given_name": "Oluwaseun",
    "family_name": "Brightwater",
    "birth_date": "2001-02-03",
    "sex_at_birth": "intersex",
    "email": "seun.b@example.com",
    "phone": "555-0142",
    "address": "3 Imaginary Court, Faketon",
    "emergency_contact": "Ife Brightwater, parent, 555-0143",
}


def test_no_audit_event_contains_a_patients_name_birth_date_or_contact_details(
    clinic: Clinic,
) -> None:
    api: Client = clinic.api("ada")
    page: Client = clinic.client("ada")
    before_update: list[Patient] = [
        Patient.objects.get(pk=clinic.pat.pk),
        Patient.objects.get(pk=clinic.quinn.pk),
    ]

    # Create, through the API and through a page.
    created = api.post(PATIENTS, json.dumps(NEW_PATIENT), content_type="application/json")
    assert created.status_code == 201
    marisol_id = created.json()["id"]
    assert page.post("/patients/new/", PAGE_PATIENT).status_code == 302
    seun = Patient.objects.get(family_name="Brightwater")
    before_update += [Patient.objects.get(pk=marisol_id), seun]

    # Read, list and search by name, MRN and birth date, through the API and pages.
    for patient in before_update:
        assert api.get(f"{PATIENTS}/{patient.pk}").status_code == 200
        assert page.get(f"/patients/{patient.pk}/").status_code == 200
        assert page.get(f"/patients/{patient.pk}/edit/").status_code == 200
        for q in (patient.given_name, f"{patient.given_name} {patient.family_name}", patient.mrn):
            assert len(api.get(PATIENTS, {"q": q}).json()) >= 1
            assert page.post("/patients/", {"q": q}).status_code == 200
            assert page.post("/patients/", {"q": q}, headers={"HX-Request": "true"}).status_code
    assert api.get(PATIENTS).status_code == 200
    assert page.get("/patients/").status_code == 200
    assert clinic.api("pat").get(f"{PATIENTS}/{clinic.pat.pk}").status_code == 200

    # Update, through the API and through a page.
    changes = {
        "family_name": "Vandersloot-Reyes",
        "phone": "555-0199-2",
        "address": "9 Replacement Street, Newtown",
        "emergency_contact": "Ana Reyes, spouse, 555-0190",
        "birth_date": "1961-07-24",
    }
    patched = api.patch(
        f"{PATIENTS}/{marisol_id}", json.dumps(changes), content_type="application/json"
    )
    assert patched.status_code == 200
    form = {**PAGE_PATIENT, "email": "oluwaseun@example.com", "phone": "555-0144"}
    assert page.post(f"/patients/{seun.pk}/edit/", form).status_code == 302
    quinn_change = json.dumps({"email": "q.sample@example.org"})
    quinn_patch = api.patch(
        f"{PATIENTS}/{clinic.quinn.pk}", quinn_change, content_type="application/json"
    )
    assert quinn_patch.status_code == 200

    names: set[str] = set()
    texts: set[str] = set()
    for patient in [*before_update, *Patient.objects.all()]:  # old values and new ones
        patient_names, patient_texts = _personal_data(patient)
        names.update(patient_names)
        texts.update(patient_texts)
    texts.add(NEW_PATIENT["referring_provider"])
    assert {"Marisol", "Vandersloot-Reyes", "Pat", "Quinn"} <= names
    assert {"1961-07-23", "23/07/1961", "July 23, 1961", "555-0144"} <= texts

    events = list(AuditEvent.objects.order_by("seq"))
    actions = {e.action for e in events}
    assert {Action.CREATE, Action.READ, Action.UPDATE} <= actions
    assert len(events) > 40
    assert _leaks(events, names, texts) == []
    assert audit_verify() is None


def test_the_leak_check_finds_personal_data_where_it_is_planted(clinic: Clinic) -> None:
    """The check above is only worth something if it would see a leak."""
    names, texts = _personal_data(clinic.quinn)
    planted = [
        AuditEvent(seq=1, object_id="Quinn", action="R", object_type="Patient"),
        AuditEvent(seq=2, object_id="x", request_id="30.11.1975", object_type="Patient"),
        AuditEvent(seq=3, object_type="Robin Sample, sibling, 555-0198"),
        AuditEvent(seq=4, object_type="Patient", client_address="QUINN@example.org"),
    ]
    assert len(_leaks(planted, set(names), set(texts))) >= 4
    clean = [AuditEvent(seq=5, object_type="Patient", actor_role="patient", object_id="x")]
    assert _leaks(clean, {"Pat", "Quinn"}, set(texts)) == []
