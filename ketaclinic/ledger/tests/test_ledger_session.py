"""What the chart asks before a session is signed: every draw reconciled (administered +
wasted = drawn), and nothing charted that was never drawn."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest

from ketaclinic.infusions.models import Session
from ketaclinic.ledger import services
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry, RegisteredLocation
from ketaclinic.ledger.selectors import container_ledger, session_ledger_problems
from ketaclinic.ledger.tests.conftest import chart_dose, receive, witness
from ketaclinic.testing import Clinic


def draw(clinic: Clinic, vial: Container, session: Session, ml: str) -> LedgerEntry:
    return services.ledger_draw(
        acting_user=clinic.users["ben"], container=vial, session=session, ml=Decimal(ml)
    )


def waste(clinic: Clinic, row: LedgerEntry, ml: str) -> LedgerEntry:
    return services.ledger_waste(
        acting_user=clinic.users["ben"],
        draw=row,
        ml=Decimal(ml),
        method="disposal container",
        witness=witness(clinic, "ada"),
    )


def test_a_session_without_ketamine_has_no_ledger_problems(session: Session) -> None:
    chart_dose(session, None)
    assert session_ledger_problems(session) == []


def test_ketamine_charted_but_never_drawn_is_a_problem(session: Session) -> None:
    chart_dose(session, "35")
    (problem,) = session_ledger_problems(session)
    assert "charted as given (35 mg)" in problem
    assert "no draw" in problem


def test_a_draw_with_nothing_charted_is_a_problem(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw(clinic, vial, session, "1")
    chart_dose(session, None)
    problems = session_ledger_problems(session)
    assert any("no administered dose is charted" in p for p in problems)


def test_administered_plus_wasted_must_equal_drawn(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    row = draw(clinic, vial, session, "2")  # 100 mg at 50 mg/mL
    chart_dose(session, "70")  # 1.4 mL
    (problem,) = session_ledger_problems(session)
    assert "drawn 2 mL, administered 1.4 mL, wasted 0 mL" in problem
    assert "0.6 mL is not accounted for" in problem
    waste(clinic, row, "0.5")
    (problem,) = session_ledger_problems(session)
    assert "0.1 mL is not accounted for" in problem
    waste(clinic, row, "0.1")
    assert session_ledger_problems(session) == []


def test_the_chart_records_the_administration_in_the_ledger(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    row = draw(clinic, vial, session, "2")
    chart_dose(session, "70")
    (given,) = services.ledger_administration_record(
        acting_user=clinic.users["ben"], session=session
    )
    assert (given.kind, given.ml, given.draw_id) == (
        EntryKind.ADMINISTRATION,
        Decimal("1.4"),
        row.pk,
    )
    assert (
        services.ledger_administration_record(acting_user=clinic.users["ben"], session=session)
        == []
    )
    waste(clinic, row, "0.6")
    assert session_ledger_problems(session) == []
    state = container_ledger(vial).current
    assert (state.administered, state.wasted, state.in_container_ml) == (
        Decimal("1.4"),
        Decimal("0.6"),
        Decimal("8"),
    )


def test_a_lowered_charted_dose_is_recorded_as_a_correction(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    row = draw(clinic, vial, session, "2")
    chart_dose(session, "70")
    services.ledger_administration_record(acting_user=clinic.users["ben"], session=session)
    waste(clinic, row, "0.6")
    chart_dose(session, "60")  # the nurse corrects the chart
    problems = session_ledger_problems(session)
    assert any("the ledger records 70" in p for p in problems)
    (correction,) = services.ledger_administration_record(
        acting_user=clinic.users["ben"], session=session
    )
    assert (correction.kind, correction.ml) == (EntryKind.CORRECTION, Decimal("-0.2"))
    assert "from 70" in correction.reason
    (problem,) = session_ledger_problems(session)
    assert "0.2 mL is not accounted for" in problem
    waste(clinic, row, "0.2")
    assert session_ledger_problems(session) == []


def test_a_dose_larger_than_the_draws_is_a_problem_and_is_recorded_as_far_as_it_fits(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    draw(clinic, vial, session, "1")  # 50 mg
    chart_dose(session, "80")
    problems = session_ledger_problems(session)
    assert any("80 mg was given but only 50" in p for p in problems)
    (given,) = services.ledger_administration_record(
        acting_user=clinic.users["ben"], session=session
    )
    assert given.ml == Decimal("1")
    assert any("the ledger records 50" in p for p in session_ledger_problems(session))


def test_draws_from_two_containers_of_different_strengths_are_filled_in_order(
    clinic: Clinic, location: RegisteredLocation, session: Session
) -> None:
    (strong,) = receive(clinic, location, concentration="100", lot="S")
    (weak,) = receive(clinic, location, concentration="10", lot="W")
    first = draw(clinic, strong, session, "0.5")  # 50 mg
    second = draw(clinic, weak, session, "3")  # 30 mg
    chart_dose(session, "65")  # 50 mg from the first, 15 mg (1.5 mL) from the second
    (problem,) = session_ledger_problems(session)
    assert "1.5 mL is not accounted for" in problem
    waste(clinic, second, "1.5")
    assert session_ledger_problems(session) == []
    given = services.ledger_administration_record(acting_user=clinic.users["ben"], session=session)
    assert [(g.draw_id, g.ml) for g in given] == [
        (first.pk, Decimal("0.5")),
        (second.pk, Decimal("1.5")),
    ]


def test_a_session_whose_draw_is_not_reconciled_cannot_be_signed(
    clinic: Clinic, vial: Container, session: Session
) -> None:
    try:
        chart = importlib.import_module("ketaclinic.infusions.services")
    except ImportError:
        pytest.skip("the session chart is not there yet")
    draw(clinic, vial, session, "2")
    chart_dose(session, "70")
    Session.objects.filter(pk=session.pk).update(status="discharged")
    session.refresh_from_db()
    with pytest.raises(chart.ChartRefused) as refused:
        chart.session_sign(acting_user=clinic.users["ben"], session=session)
    assert any("0.6 mL is not accounted for" in r for r in refused.value.reasons)
