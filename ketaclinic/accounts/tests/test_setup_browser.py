"""The administrator sets the clinic up in real headless Chromium, without the API: creates a
staff account, resets a colleague's two-factor authentication with a reason, adds a chair with
its opening hours and registers a ledger location with a second safe; then reads the audit
trail with names and actions in words. Screenshots at 1366 and 820 px of each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ketaclinic.accounts.models import AccountChange, User
from ketaclinic.courses.models import Chair
from ketaclinic.ledger.models import RegisteredLocation, StorageLocation
from ketaclinic.ledger.tests.conftest import receive
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import Browser, axe_report, axe_violations, screenshots, sign_in

chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser

NEW_PASSWORD = "night-shift-nurse-2026"


def _axe_clean(page: object, where: str) -> None:
    violations = axe_violations(page)  # type: ignore[arg-type]
    assert violations == [], axe_report(where, violations)


def test_the_administrator_creates_a_user_a_chair_and_a_ledger_location_in_pages(
    live_clinic: Clinic, browser: Browser
) -> None:
    clinic = live_clinic
    page = browser.page
    page.set_default_timeout(30_000)
    sign_in(page, "dana", PASSWORD, clinic.totp["dana"])

    # Setup is one of the places under the navigation's "More" menu: open it from the keyboard
    # (Playwright's hit test takes the bare-text <summary> for its <details>, and refuses a click).
    page.get_by_role("navigation", name="Main").locator("summary", has_text="More").press("Enter")
    page.get_by_role("link", name="Setup", exact=True).click()
    expect(page.get_by_role("heading", name="Setup", exact=True)).to_be_visible()
    screenshots(page, "setup-home")
    _axe_clean(page, "the setup page")

    # A staff account.
    page.get_by_role("link", name="Staff accounts").click()
    form = page.get_by_role("region", name="Add a staff account")
    form.get_by_label("Username").fill("eve")
    form.get_by_label("Role").select_option(label="Infusion nurse")
    form.get_by_label("First name").fill("Eve")
    form.get_by_label("Last name").fill("Night")
    form.locator("#id_password1").fill(NEW_PASSWORD)
    form.get_by_label("Password again").fill(NEW_PASSWORD)
    screenshots(page, "setup-users")
    _axe_clean(page, "the staff accounts page")
    form.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("status")).to_have_text("Account eve created (Infusion nurse).")
    eve = User.objects.get(username="eve")
    assert eve.role == "nurse" and eve.check_password(NEW_PASSWORD)

    # Ada lost her phone: her two-factor is reset, with the reason, from her account page.
    page.goto(f"/setup/users/{clinic.users['ada'].pk}/")
    reset = page.get_by_role("region", name="Reset two-factor authentication")
    reset.get_by_label("Reason").fill("Lost her phone; identity checked in person")
    reset.get_by_role("button", name="Reset two-factor authentication").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication of ada reset")
    expect(
        page.get_by_role("cell", name="Lost her phone; identity checked in person")
    ).to_be_visible()
    screenshots(page, "setup-user")
    _axe_clean(page, "a staff account's page")
    assert AccountChange.objects.filter(user=clinic.users["ada"], kind="two_factor_reset").exists()

    # A chair with opening hours.
    page.goto("/setup/")
    page.get_by_role("link", name="Chairs and opening hours").click()
    chair_form = page.get_by_role("region", name="Add a chair")
    chair_form.get_by_label("Name").fill("Chair 3")
    chair_form.get_by_label("Room").fill("Recovery room")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        chair_form.get_by_label(day).fill("08:00-18:00")
    chair_form.get_by_role("button", name="Add the chair").click()
    expect(page.get_by_role("status")).to_have_text("Chair Chair 3 added.")
    assert len(Chair.objects.get(name="Chair 3").opening_hours) == 5
    screenshots(page, "setup-chairs")
    _axe_clean(page, "the chairs page")
    page.get_by_role("link", name="Chair 3").click()
    page.get_by_label("Saturday").fill("09:00-13:00")
    screenshots(page, "setup-chair-edit")
    _axe_clean(page, "a chair's page")
    page.get_by_role("button", name="Save the chair").click()
    expect(page.get_by_role("status")).to_have_text("Chair Chair 3 saved.")
    assert len(Chair.objects.get(name="Chair 3").opening_hours) == 6

    # A protocol's numbers as a form, each with its source.
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure

    shipped_rows_ensure()
    page.goto("/courses/protocols/")
    page.get_by_role("link", name="IV racemic ketamine 0.5 mg/kg over 40 minutes").first.click()
    page.get_by_role("button", name="Edit as a new version").click()
    expect(page.get_by_text("Murrough 2013 (Biol Psychiatry 74:250)").first).to_be_visible()
    screenshots(page, "setup-protocol-edit")
    _axe_clean(page, "the protocol form")

    # A ledger location, then a second safe.
    page.goto("/setup/")
    page.get_by_role("link", name="Ledger locations and safes").click()
    location = page.get_by_role("region", name="Register a location")
    location.get_by_label("Name").fill("Main clinic")
    location.get_by_label("Registrant").fill("Example Clinic LLC")
    location.get_by_label("Address").fill("1 Example Street, Springfield")
    location.get_by_label("DEA registration number").fill("AB1234563")
    location.get_by_label("Registration expires").fill("2028-06-30")
    location.get_by_role("button", name="Register the location").click()
    expect(page.get_by_role("status")).to_have_text("Main clinic registered, with its safe.")
    registered = RegisteredLocation.objects.get(name="Main clinic")
    storage = page.get_by_role("form", name="Add storage to Main clinic")
    storage.get_by_label("Name").fill("Cabinet B")
    storage.get_by_label("Kind").select_option(label="Locked cabinet")
    storage.get_by_role("button", name="Add the storage").click()
    expect(page.get_by_role("status")).to_have_text("Cabinet B added to Main clinic.")
    names = set(StorageLocation.objects.filter(location=registered).values_list("name", flat=True))
    assert names == {"Safe", "Cabinet B"}
    screenshots(page, "setup-ledger-locations")
    _axe_clean(page, "the ledger locations page")

    # The ledger pages changed with this work: the receipt (whole minutes), the count (a sealed
    # vial counted as a vial) and a container's history (when it was received).
    page.goto("/ledger/receipts/new/")
    received = page.get_by_label("Received at")
    assert received.get_attribute("step") == "60"
    screenshots(page, "ledger-receipt")
    (vial,) = receive(clinic, registered)
    page.goto(f"/ledger/counts/new/?location={registered.pk}")
    expect(page.get_by_text("Present, seal intact (1 vial)")).to_be_visible()
    screenshots(page, "ledger-count")
    _axe_clean(page, "the count page")
    page.goto(f"/ledger/containers/{vial.pk}/")
    expect(page.get_by_text("received; recorded")).to_be_visible()
    screenshots(page, "ledger-container")

    # The audit trail: names, roles and actions in words; the filter by person.
    page.get_by_role("link", name="Audit trail").first.click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    page.get_by_label("Person").select_option(value=str(clinic.users["dana"].pk))
    page.get_by_label("Kind of record").select_option(label="User")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_role("cell", name="Changed").first).to_be_visible()
    expect(page.locator("td", has_text="Administrator").first).to_be_visible()
    assert (
        "Dana" in page.locator("table.audit-table").inner_text()
        or "dana" in page.locator("table.audit-table").inner_text()
    )
    screenshots(page, "audit-trail")
    _axe_clean(page, "the audit trail")
    browser.problems.assert_none()
