"""The ledger's draw and witnessed-waste pages: a nurse draws for a session and wastes the rest
of the draw witnessed by a second person; bad input and refusals show their reasons and store
nothing; wrong witness passwords count towards the sign-in lockout (moved out of
test_ledger_pages.py, which passed 600 lines)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from ketaclinic.accounts.lockouts import lockouts_current
from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.models import Session
from ketaclinic.ledger import selectors, services
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.ledger.tests.conftest import otp, witness
from ketaclinic.ledger.tests.test_ledger_pages import (
    assert_ledger_intact,
    draw_now,
    in_container,
    kinds,
    text,
)
from ketaclinic.testing import PASSWORD, Clinic

# --- draws -----------------------------------------------------------------------------------


def test_nurse_draws_for_a_session_and_the_balance_goes_down(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    client = clinic.client("ben")
    page = client.get(f"/ledger/containers/{vial.pk}/draw/?session={session.pk}")
    assert page.status_code == 200
    # The session is chosen by chair, time and patient; that read of Pat's name is audited.
    assert "Ledger chair: Example, Pat" in text(page)
    assert f'<option value="{session.pk}" selected>' in page.content.decode()
    assert AuditEvent.objects.filter(
        object_type="Session", object_id=str(session.pk), action="R", actor=clinic.users["ben"]
    ).exists()

    response = client.post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": "4.5"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/ledger/containers/{vial.pk}/"
    drawn = LedgerEntry.objects.get(kind=EntryKind.DRAW)
    assert (drawn.ml, drawn.session_id, drawn.actor) == (
        Decimal("4.5"),
        session.pk,
        clinic.users["ben"],
    )
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]
    assert in_container(vial) == Decimal("5.5")
    assert_ledger_intact()


def test_drawing_more_than_the_container_holds_is_refused_with_the_reason(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    response = clinic.client("ben").post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": "12"}
    )

    assert response.status_code == 409
    page = text(response)
    assert "Refused: nothing was recorded" in page
    assert f"Cannot draw 12 mL from container '{vial.pk}': it holds only 10 mL." in page
    assert kinds() == [EntryKind.RECEIPT]
    assert in_container(vial) == Decimal("10")


def test_drawing_from_a_quarantined_container_is_refused_with_the_reason(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    services.ledger_quarantine(acting_user=clinic.users["dana"], container=vial, reason="recall")

    response = clinic.client("ben").post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": "1"}
    )

    assert response.status_code == 409
    assert "is quarantined; do not draw from it." in text(response)
    assert kinds() == [EntryKind.RECEIPT, EntryKind.QUARANTINE]


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ("0", "Must be more than 0 mL"),
        ("-1", "Must be more than 0 mL"),
        ("1.23456", "Give the volume with at most 4 decimal places."),
        ("a little", "Enter a number."),
        ("", "This field is required."),
    ],
)
def test_a_draw_with_a_bad_volume_shows_the_error_beside_the_field(
    clinic: Clinic, vial: Container, session: Session, volume: str, message: str
) -> None:
    response = clinic.client("ben").post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": volume}
    )

    assert response.status_code == 422
    errors = re.search(r'id="id_volume_ml_errors"[^>]*>(.*?)</ul>', response.content.decode())
    assert errors is not None and message in errors.group(1)
    assert kinds() == [EntryKind.RECEIPT]


def test_a_draw_for_a_session_not_offered_is_an_error(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    Session.objects.filter(pk=session.pk).update(status="signed")

    response = clinic.client("ben").post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": "1"}
    )

    assert response.status_code == 422
    assert 'id="id_session_errors"' in response.content.decode()
    assert kinds() == [EntryKind.RECEIPT]


@pytest.mark.parametrize("username", ["ada", "dana", "cleo", "pat"])
def test_a_draw_posted_by_a_role_that_may_not_draw_is_refused(
    clinic: Clinic, vial: Container, session: Session, username: str
) -> None:
    response = clinic.client(username).post(
        f"/ledger/containers/{vial.pk}/draw/", {"session": str(session.pk), "volume_ml": "1"}
    )

    assert response.status_code == 403
    assert kinds() == [EntryKind.RECEIPT]


# --- waste -----------------------------------------------------------------------------------


def waste_form(clinic: Clinic, username: str, **overrides: str) -> dict[str, str]:
    creds = witness(clinic, username)
    data = {
        "volume_ml": "2",
        "method": "Pharmaceutical waste container",
        "witness_username": creds.username,
        "witness_password": creds.password,
        "witness_otp": creds.otp,
    }
    data.update(overrides)
    return data


def test_nurse_wastes_the_rest_of_a_draw_witnessed_by_the_clinician(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    drawn = draw_now(clinic, vial, session, "6")
    client = clinic.client("ben")
    page = client.get(f"/ledger/draws/{drawn.pk}/waste/")
    assert page.status_code == 200
    assert 'value="6"' in page.content.decode()  # the rest of the draw, proposed

    response = client.post(f"/ledger/draws/{drawn.pk}/waste/", waste_form(clinic, "ada"))

    assert response.status_code == 302
    wasted = LedgerEntry.objects.get(kind=EntryKind.WASTE)
    assert (wasted.ml, wasted.draw_id, wasted.actor, wasted.witness) == (
        Decimal("2"),
        drawn.pk,
        clinic.users["ben"],
        clinic.users["ada"],
    )
    assert wasted.method == "Pharmaceutical waste container"
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW, EntryKind.WASTE]
    ledger = selectors.container_ledger(vial)
    assert ledger.draw_state(drawn).open_ml == Decimal("4")
    assert ledger.current.balance.ml == Decimal("4")
    assert_ledger_intact()


@pytest.mark.parametrize(
    ("username", "overrides", "field", "message"),
    [
        (
            "ada",
            {"witness_username": "", "witness_password": "", "witness_otp": ""},
            "witness_username",
            "A second staff user must witness this.",
        ),
        (
            "ada",
            {"witness_password": "not-the-password"},
            "witness_password",
            "The witness's username or password is wrong.",
        ),
        (
            "ada",
            {"witness_username": "nobody"},
            "witness_password",
            "The witness's username or password is wrong.",
        ),
        ("ben", {}, "witness_username", "The witness must be a different person from you."),
        ("cleo", {}, "witness_username", "This user's role may not witness ledger entries."),
        (
            "ada",
            {"witness_otp": ""},
            "witness_otp",
            "The witness has two-factor authentication: give their code.",
        ),
        ("ada", {"witness_otp": "000000"}, "witness_otp", "The witness's code is wrong or used."),
        ("ada", {"method": " "}, "method", "This field is required."),
    ],
)
def test_a_waste_without_a_valid_witness_shows_why_and_stores_nothing(
    clinic: Clinic,
    vial: Container,
    session: Session,
    username: str,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    drawn = draw_now(clinic, vial, session, "6")
    if overrides.get("witness_otp") == "000000" and otp(clinic, "ada") == "000000":
        overrides = {"witness_otp": "111111"}  # the one time in a million the code is 000000

    response = clinic.client("ben").post(
        f"/ledger/draws/{drawn.pk}/waste/", waste_form(clinic, username, **overrides)
    )

    assert response.status_code == 422
    content = response.content.decode()
    errors = re.search(rf'id="id_{field}_errors"[^>]*>(.*?)</ul>', content)
    assert errors is not None, content
    assert message.replace("'", "&#x27;") in errors.group(1)
    assert PASSWORD not in content  # the witness's password is never sent back
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]
    assert selectors.container_ledger(vial).draw_state(drawn).open_ml == Decimal("6")


def test_wasting_more_than_the_draw_holds_is_refused_with_the_reason(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    drawn = draw_now(clinic, vial, session, "3")

    response = clinic.client("ben").post(
        f"/ledger/draws/{drawn.pk}/waste/", waste_form(clinic, "ada", volume_ml="3.5")
    )

    assert response.status_code == 409
    assert f"Draw 'L{drawn.seq}' would account for 3.5 mL" in text(response)
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]


def test_a_waste_posted_by_the_clinician_is_refused(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    drawn = draw_now(clinic, vial, session, "3")

    response = clinic.client("ada").post(
        f"/ledger/draws/{drawn.pk}/waste/", waste_form(clinic, "ben", volume_ml="3")
    )

    assert response.status_code == 403
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]


def test_the_waste_page_of_an_entry_that_is_not_a_draw_is_not_found(
    clinic: Clinic, vial: Container
) -> None:
    receipt_entry = LedgerEntry.objects.get()
    assert clinic.client("ben").get(f"/ledger/draws/{receipt_entry.pk}/waste/").status_code == 404


def test_wrong_witness_passwords_count_towards_the_witness_sign_in_lockout(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    """A waste form must not be a way to guess a colleague's password: after the sign-in
    failure limit, even the right password is refused there. The failures count under their
    own key, "ada (second check by ben)" (accounts/lockouts.py, h18-ops), so the witness's own
    sign-in is not locked by a colleague's guessing."""
    drawn = draw_now(clinic, vial, session, "6")
    ben = clinic.client("ben")
    url = f"/ledger/draws/{drawn.pk}/waste/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = ben.post(url, waste_form(clinic, "ada", witness_password="guess"))
        assert wrong.status_code == 422
    # The attempt that reaches the limit locks, as at the sign-in page.
    assert ben.post(url, waste_form(clinic, "ada", witness_password="guess")).status_code == 429
    locked = ben.post(url, waste_form(clinic, "ada"))
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert kinds() == [EntryKind.RECEIPT, EntryKind.DRAW]
    sign_in = Client().post(
        reverse("two_factor:login"),
        {"login_view-current_step": "auth", "auth-username": "ada", "auth-password": PASSWORD},
    )
    assert sign_in.status_code == 200
    assert b"Too many failed attempts" not in sign_in.content
    assert [lock.username for lock in lockouts_current()] == ["ada (second check by ben)"]
