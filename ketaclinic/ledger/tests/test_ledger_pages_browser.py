"""The ledger's pages in real headless Chromium: Nurse Ben draws from a vial for a session and
wastes the rest, Dr Ada typing her own credentials and two-factor code as the witness; the
container page then shows the balance and the witnessed waste.

The harness (Chromium, live server, problem collection) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from ketaclinic.infusions.models import Session
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.ledger.selectors import ledger_verify
from ketaclinic.ledger.tests.conftest import location_make, otp, receive, session_make
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, session_given

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


@dataclass
class Stock:
    clinic: Clinic
    vial: Container
    session: Session


@pytest.fixture
def stock(live_clinic: Clinic) -> Stock:
    """A 10 mL vial of 50 mg/mL in the safe and Pat's session today, committed."""
    (vial,) = receive(live_clinic, location_make(live_clinic))
    return Stock(live_clinic, vial, session_make(live_clinic))


def test_nurse_draws_and_wastes_the_rest_with_the_clinician_as_witness(
    stock: Stock, browser: Browser, live_server: LiveServer
) -> None:
    page = browser.page
    session_given(page, live_server.url, stock.clinic.users["ben"])
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ledger").click()
    expect(page.get_by_role("heading", name="Ketamine ledger", level=1)).to_be_visible()
    expect(page.get_by_text("On hand: 10 mL (500 mg) in 1 container(s).")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, axe_report("the ledger's home", violations)
    page.get_by_role("link", name=f"Container {stock.vial.pk}").click()
    expect(page.locator("#balance")).to_contain_text("10 mL (500 mg)")

    page.get_by_role("link", name="Draw from this container").click()
    page.get_by_label("For the session").select_option(str(stock.session.pk))
    page.get_by_label("Volume drawn (mL)").fill("4")
    page.get_by_role("button", name="Record the draw").click()
    expect(page.get_by_role("status")).to_contain_text("recorded: 4 mL")
    expect(page.locator("#balance")).to_contain_text("6 mL (300 mg)")

    draw = LedgerEntry.objects.get(kind=EntryKind.DRAW)
    page.get_by_role("link", name=f"Waste the rest of L{draw.seq}").click()
    expect(page.get_by_label("Volume wasted (mL)")).to_have_value("4")
    violations = axe_violations(page)
    assert not violations, axe_report("the waste form", violations)
    # Dr Ada, at the nurse's side, types her own username, password and current code.
    page.get_by_label("Witness's username").fill("ada")
    page.get_by_label("Witness's password").fill(PASSWORD)
    page.get_by_label("Witness's two-factor code").fill(otp(stock.clinic, "ada"))
    page.get_by_role("button", name="Record the waste").click()

    expect(page.get_by_role("status")).to_contain_text("recorded: 4 mL")
    expect(page.locator("#balance")).to_contain_text("6 mL (300 mg)")
    waste = LedgerEntry.objects.get(kind=EntryKind.WASTE)
    row = page.locator(f'tr[data-ref="L{waste.seq}"]')
    expect(row).to_contain_text(f"Waste of L{draw.seq}")
    expect(row).to_contain_text("4 mL")
    expect(row).to_contain_text("ben")
    expect(row).to_contain_text("ada")
    expect(row).to_contain_text("6 mL (300 mg)")
    expect(page.locator(f'tr[data-draw="{draw.pk}"]')).to_have_count(0)  # nothing left open
    violations = axe_violations(page)
    assert not violations, axe_report("the container page", violations)

    assert (waste.actor, waste.witness) == (stock.clinic.users["ben"], stock.clinic.users["ada"])
    assert ledger_verify() == []
    browser.problems.assert_none()
