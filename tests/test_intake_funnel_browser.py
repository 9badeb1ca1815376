"""The intake funnel end to end in real headless Chromium, one person from the public inquiry
form to a signed consent:

1. someone takes the anonymous self-screen (GAD-7 and PHQ-9) and sends an inquiry with its
   results through the public form (no login);
2. Cleo (intake) finds it on the board, logs a contact attempt and converts it into a patient
   record without retyping;
3. Dr Ada (clinician, TOTP) records the eligibility evaluation on its page, reads the proposal
   and decides "eligible";
4. the patient signs the consent on the clinic's tablet;
5. the patient page shows the decision and the consent.

Each step is its own function.
The harness (browser, live server, personas, sign-in) is ``ketaclinic/testing/browser.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from ketaclinic.consent.models import ConsentSignature
from ketaclinic.eligibility.models import EligibilityDecision
from ketaclinic.eligibility.tests.eligibility_helpers import current_documents, shipped_rows_ensure
from ketaclinic.intake.models import ContactAttempt, Inquiry, InquiryStatus
from ketaclinic.patients.models import Patient
from ketaclinic.testing import PASSWORD, Clinic
from ketaclinic.testing import browser as harness
from ketaclinic.testing.browser import TIMEOUT_MS, Browser, self_screen_answer, sign_in, sign_out

# The harness's fixtures, bound here so that they apply to this module's tests.
chromium_path = harness.chromium_path
live_clinic = harness.live_clinic
browser = harness.browser

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Person:
    """Who asks: synthetic details, typed into the public form once and never again."""

    name: str = "Robin van der Asker"
    given_name: str = "Robin"
    family_name: str = "van der Asker"
    email: str = "robin.asker@example.org"
    phone: str = "555-0142"
    birth_date: str = "1991-03-04"
    sex_at_birth: str = "female"


def self_screen_taken(page: Page) -> None:
    """Step 1a: the anonymous self-screen, GAD-7 and PHQ-9; its results go to the inquiry form."""
    page.goto("/clinic/")
    page.get_by_role("button", name="Take the anonymous self-screen").click()
    expect(page.get_by_role("heading", name="Anonymous self-screen")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#phq9-item-9")).to_be_visible(timeout=TIMEOUT_MS)
    # GAD-7 14 of 21
    self_screen_answer(page, "gad7", {str(n): "More than half the days" for n in range(1, 8)})
    # 8 of 27, with item 9 at "Not at all"
    self_screen_answer(
        page, "phq9", {str(n): "Several days" for n in range(1, 9)} | {"9": "Not at all"}
    )
    page.get_by_role("button", name="See my results").click()
    expect(page.get_by_role("heading", name="Your self-screen results")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.locator("main")).to_contain_text("14 out of 21")
    expect(page.locator("main")).to_contain_text("8 out of 27")
    expect(page.locator("main .crisis-urgent")).to_have_count(0)
    page.get_by_role("button", name="Send an inquiry with these results").click()
    expect(page.get_by_role("heading", name="Ask about treatment")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_label("Send these self-screen results with my inquiry")).to_be_checked()


def inquiry_send(page: Page, person: Person) -> Inquiry:
    """Step 1b: the public inquiry form, anonymous, reached from the self-screen's results."""
    expect(page.get_by_role("heading", name="Ask about treatment")).to_be_visible()
    page.get_by_label("Your name").fill(person.name)
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Phone number").fill(person.phone)
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Social anxiety").check()
    page.get_by_label("Treatments you have tried (optional)").fill(
        "Sertraline 150 mg for 10 weeks; 12 sessions of CBT."
    )
    page.get_by_label("I agree that the clinic may contact me about this inquiry.").check()
    page.get_by_role("button", name="Send inquiry").click()
    expect(page).to_have_url(re.compile(r"/clinic/inquiry/thanks/$"), timeout=TIMEOUT_MS)
    return Inquiry.objects.get(email=person.email)


def intake_converts(page: Page, clinic: Clinic, inquiry: Inquiry, person: Person) -> Patient:
    """Step 2: Cleo finds the inquiry on the board, logs a call and makes the patient record."""
    sign_in(page, "cleo", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inquiries").click()
    column = page.locator("section[aria-labelledby='column-new']")
    card = column.get_by_role("link", name=f"#{inquiry.pk} {person.name}")
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    expect(column).to_contain_text("GAD-7 14/21")  # the attached self-screen, on the card
    card.click()

    expect(page.get_by_role("heading", name=f"Inquiry #{inquiry.pk}")).to_be_visible()
    attempt = page.locator("form", has=page.get_by_role("button", name="Log the attempt"))
    attempt.get_by_label("How").select_option("phone")
    attempt.get_by_label("Outcome").select_option("reached")
    attempt.get_by_label("Note (optional)").fill("Called; evaluation booked for Tuesday.")
    attempt.get_by_role("button", name="Log the attempt").click()
    expect(page.get_by_role("status")).to_have_text("Contact attempt logged.")
    expect(page.locator("#inquiry-status")).to_have_text("Contacted")
    expect(page.get_by_text("Called; evaluation booked for Tuesday.")).to_be_visible()

    page.get_by_role("button", name="Convert into a patient record").click()
    expect(page.get_by_label("Given name")).to_have_value(person.given_name)
    expect(page.get_by_label("Family name")).to_have_value(person.family_name)
    expect(page.get_by_label("E-mail")).to_have_value(person.email)
    expect(page.get_by_label("Phone")).to_have_value(person.phone)
    page.get_by_label("Birth date").fill(person.birth_date)
    page.get_by_label("Sex at birth").select_option(person.sex_at_birth)
    page.get_by_role("button", name="Create the patient record").click()

    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text(f"{person.family_name}, {person.given_name}")
    expect(page.get_by_role("status")).to_have_text("Patient record created from the inquiry.")
    inquiry.refresh_from_db()
    assert inquiry.patient is not None
    assert page.url.endswith(f"/patients/{inquiry.patient.pk}/")
    sign_out(page)
    return inquiry.patient


def clinician_decides(page: Page, clinic: Clinic, patient: Patient) -> EligibilityDecision:
    """Step 3: Dr Ada records the evaluation on its page and decides on the proposal."""
    sign_in(page, "ada", PASSWORD, clinic.totp["ada"])
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Eligibility evaluations and decisions").click()
    page.get_by_role("button", name="New evaluation").click()

    expect(page.get_by_role("heading", name="Eligibility evaluation")).to_be_visible()
    page.get_by_label("F40.11 Social phobia, generalized").check()
    page.get_by_label("GAD-7").fill("16")
    trial = page.get_by_role("group", name="Medication trial 1")
    trial.get_by_label("Medication").fill("sertraline")
    trial.get_by_label("Class (e.g. SSRI)").fill("SSRI")
    trial.get_by_label("Daily dose (mg)").fill("150")
    trial.get_by_label("Weeks").fill("10")
    therapy = page.get_by_role("group", name="Psychotherapy course 1")
    therapy.get_by_label("Therapy (e.g. CBT)").fill("CBT")
    therapy.get_by_label("Sessions").fill("12")
    page.get_by_role("group", name="Current medication 1").get_by_label("Medication").fill(
        "sertraline"
    )
    page.get_by_label("Systolic BP (mmHg)").fill("124")
    page.get_by_label("Diastolic BP (mmHg)").fill("79")
    page.get_by_label("Heart rate (/min)").fill("72")
    page.get_by_label("Weight (kg)").fill("68.5")
    page.get_by_label("Notes").fill("Synthetic funnel evaluation.")
    page.get_by_role("button", name="Record the evaluation").click()

    expect(page.get_by_role("status")).to_have_text("Evaluation recorded.")
    expect(page.locator("#proposal-outcome")).to_have_text("Eligible")
    expect(page.get_by_text("No rule fired")).to_be_visible()
    expect(page.get_by_text("sertraline (medication)")).to_be_visible()

    page.get_by_label("Eligible", exact=True).check()
    page.get_by_label("Rationale").fill("Two adequate trials; no contraindication.")
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_role("status")).to_have_text("Decision signed.")
    expect(page.locator("#decision-value")).to_have_text("Eligible")
    decision = EligibilityDecision.objects.get(patient=patient)
    expect(page.locator("#decision-digest")).to_have_text(decision.digest)
    return decision


def consent_signed(page: Page, person: Person) -> None:
    """Step 4: from the decision, the consent tablet page; the patient reads, draws and signs."""
    page.get_by_role("link", name="Consent on the clinic's tablet").click()
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    page.get_by_label("Your full name").fill(f"{person.given_name} {person.family_name}")
    page.get_by_label("I have read the document above").check()
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.6)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            box["x"] + 20 + step * 25, box["y"] + box["height"] * (0.3 + 0.05 * (step % 3))
        )
    page.mouse.up()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Signed:")
    expect(page.get_by_text("Every current consent document is signed.")).to_be_visible()


def patient_page_shows_decision_and_consent(page: Page, patient: Patient) -> None:
    """Step 5: the banner shows the decision, the page the consent."""
    page.goto(f"/patients/{patient.pk}/")
    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text(re.compile(r"Eligibility: Eligible \(\d{4}-\d{2}-\d{2}, ada\)"))
    expect(page.locator("#consent-summary")).to_have_text(
        "Every current consent document is signed."
    )
    for document in current_documents():
        expect(page.get_by_text(f"{document.title} (version {document.version})")).to_be_visible()


def test_an_inquiry_becomes_an_eligible_patient_with_signed_consent(
    live_clinic: Clinic, browser: Browser
) -> None:
    shipped_rows_ensure()  # an earlier transactional test's flush removes the shipped rows
    page = browser.page
    person = Person()

    self_screen_taken(page)
    inquiry = inquiry_send(page, person)
    assert [(r["instrument"], r["total"]) for r in inquiry.self_screen] == [
        ("gad7", 14),
        ("phq9", 8),
    ]
    patient = intake_converts(page, live_clinic, inquiry, person)
    decision = clinician_decides(page, live_clinic, patient)
    consent_signed(page, person)
    patient_page_shows_decision_and_consent(page, patient)

    assert ContactAttempt.objects.filter(inquiry=inquiry, outcome="reached").count() == 1
    assert (patient.given_name, patient.family_name) == (person.given_name, person.family_name)
    assert (patient.email, patient.phone) == (person.email, person.phone)
    assert decision.decision == "eligible"
    assert decision.decided_by == live_clinic.users["ada"]
    signed = set(
        ConsentSignature.objects.filter(patient=patient).values_list("document_id", flat=True)
    )
    assert signed == {d.pk for d in current_documents()}
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ELIGIBLE
    browser.problems.assert_none()
