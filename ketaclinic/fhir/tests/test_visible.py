"""The FHIR search's access check (``search/visible.py``: ``patients_visible_to``'s queryset
compiled once and kept) answers exactly as the ORM rule does (``patient_get_for_user``), for
every role, a patient with and without a record, programs of both kinds, and anonymous."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.services import user_create
from ketaclinic.fhir.search.visible import patient_visible
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.testing import PASSWORD, Clinic, make_patient

pytestmark = pytest.mark.django_db


def _orm(user: Any, patient_id: uuid.UUID) -> bool:
    try:
        patient_get_for_user(user, patient_id, audit=False)
    except Patient.DoesNotExist:
        return False
    return True


def _users(clinic: Clinic) -> dict[str, Any]:
    users: dict[str, Any] = dict(clinic.users)
    for role in Role:
        if role in (Role.PATIENT, Role.CLIENT):
            continue
        users[f"new {role}"] = user_create(
            acting_user=None, username=f"new-{role}", role=role, password=PASSWORD, validate=False
        )
    unlinked = user_create(
        acting_user=None,
        username="unlinked",
        role=Role.PATIENT,
        password=PASSWORD,
        patient=make_patient(given_name="Unlinked", email=""),
        validate=False,
    )
    unlinked.patient_id = None  # a patient account without its record (in memory)
    users["patient without record"] = unlinked
    # Programs (fhir/smart/access.py): rights from the token's grant, set in memory.
    for name, rights, own in (
        ("system program", {"patient.view_any", "consent.view"}, None),
        ("patient program", {"patient.view_own", "consent.view"}, clinic.pat.pk),
        ("program without patient rights", {"consent.view"}, clinic.pat.pk),
    ):
        account = user_create(
            acting_user=None,
            username=name.replace(" ", "-"),
            role=Role.CLIENT,
            password=PASSWORD,
            validate=False,
        )
        account.granted_permissions = frozenset(rights)  # type: ignore[attr-defined]
        account.patient_id = own
        users[name] = account
    users["anonymous"] = AnonymousUser()
    return users


def test_the_kept_check_refuses_exactly_where_the_orm_rule_does(clinic: Clinic) -> None:
    other = make_patient(given_name="Other", email="")
    candidates = [clinic.pat.pk, clinic.quinn.pk, other.pk, uuid.uuid4()]
    users = _users(clinic)
    assert {getattr(u, "role", None) for u in users.values()} >= set(Role)
    seen = set()
    for _round in range(2):  # compiled on the first, kept on the second
        for name, user in users.items():
            for patient_id in candidates:
                expected = _orm(user, patient_id)
                assert patient_visible(user, patient_id) is expected, (name, patient_id)
                seen.add(expected)
    assert seen == {True, False}


def test_a_changed_role_or_grant_is_a_new_check(clinic: Clinic) -> None:
    """The kept statement is per set of the rule's inputs: the same account with another role,
    or a program with other rights, is checked afresh."""
    ben = clinic.users["ben"]
    assert patient_visible(ben, clinic.quinn.pk)
    ben.role = Role.PATIENT
    ben.patient_id = clinic.pat.pk
    assert not patient_visible(ben, clinic.quinn.pk)
    assert patient_visible(ben, clinic.pat.pk)
    program = _users(clinic)["system program"]
    assert patient_visible(program, clinic.quinn.pk)
    program.granted_permissions = frozenset({"consent.view"})
    assert not patient_visible(program, clinic.quinn.pk)


def test_a_search_of_a_patient_not_visible_is_not_found(clinic: Clinic) -> None:
    response = clinic.api("pat").get(f"/fhir/R4/Observation?patient={clinic.quinn.pk}")
    assert response.status_code == 404
    assert clinic.api("pat").get(f"/fhir/R4/Observation?patient={clinic.pat.pk}").status_code == 200
    assert clinic.api("ben").get("/fhir/R4/Observation?patient=not-a-uuid").status_code == 404
