"""The patient's single-use pages (questionnaire link, kiosk, consent link) and the CSRF check
(issue 12, items 1 and 2), through Django's test client with the CSRF check on.

The browser side (a real submit in Chromium) is tests/test_patient_links_browser.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from ketaclinic.consent import services as consent_services
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.scales import links
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic

TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "ketaclinic"
GAD7_ALL_TWO = {f"gad7-{n}": "2" for n in range(1, 8)}


def questionnaire_link(clinic: Clinic) -> tuple[str, str]:
    issued = links.patient_link_create(
        acting_user=clinic.users["ben"], patient=clinic.pat, instrument_codes=["gad7"]
    )
    return f"/scales/q/{issued.token}/", issued.token


def kiosk_link(clinic: Clinic) -> tuple[str, str]:
    issued = links.kiosk_session_start(
        acting_user=clinic.users["ben"], patient=clinic.pat, instrument_codes=["gad7"]
    )
    return f"/scales/q/{issued.token}/", issued.token


def consent_link(clinic: Clinic) -> tuple[str, str]:
    issued = consent_services.consent_link_create(
        acting_user=clinic.users["ben"], patient=clinic.pat
    )
    return f"/intake/sign/{issued.token}/", issued.token


PAGES: dict[str, Callable[[Clinic], tuple[str, str]]] = {
    "questionnaire link": questionnaire_link,
    "kiosk": kiosk_link,
    "consent link": consent_link,
}
NO_REFERRER = re.compile(r"no-referrer(?!-when)", re.IGNORECASE)


def stored_count() -> int:
    return Administration.objects.count() + ConsentSignature.objects.count()


@pytest.mark.parametrize("page", PAGES)
def test_patient_link_pages_keep_the_referrer_same_origin(clinic: Clinic, page: str) -> None:
    """No token-bearing URL goes to another site in a Referer, and the page's own form still
    sends its origin (a "no-referrer" policy makes Chromium send ``Origin: null``, which the
    CSRF check refuses)."""
    url, _token = PAGES[page](clinic)
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert '<form method="post"' in html
    assert not NO_REFERRER.search(html)
    assert 'name="referrer"' not in html


def test_no_template_sets_a_no_referrer_policy() -> None:
    """A page with a form must not ask for no referrer: its post would carry ``Origin: null``."""
    offenders = [
        str(path.relative_to(TEMPLATES_ROOT))
        for path in sorted(TEMPLATES_ROOT.rglob("*.html"))
        if NO_REFERRER.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize("page", PAGES)
def test_a_post_without_a_valid_csrf_token_gets_the_clinics_page(clinic: Clinic, page: str) -> None:
    url, token = PAGES[page](clinic)
    phone = Client(enforce_csrf_checks=True)
    assert phone.get(url).status_code == 200  # sets the CSRF cookie
    before = stored_count()

    refused = phone.post(url, {**GAD7_ALL_TWO, "signed_name": "Pat Example", "agree": "on"})

    assert refused.status_code == 403
    html = refused.content.decode()
    assert "<h1>Your form was not sent</h1>" in html
    assert "Nothing was saved." in html
    assert "Open the form again" in html
    assert settings.KETACLINIC_CLINIC_PHONE in html  # ask the clinic
    # The clinic's look: the vendored CSS, no inline style (the CSP would block it).
    assert "/static/vendor/pico/pico.min.css" in html
    assert "<style" not in html and "style=" not in html
    # Not Django's page, nothing about the patient, no token, no navigation to staff pages.
    for absent in ("CSRF", "DEBUG", "Forbidden", "Request aborted", token):
        assert absent not in html
    for absent in (clinic.pat.family_name, clinic.pat.given_name, clinic.pat.mrn):
        assert absent not in html
    assert 'aria-label="Main"' not in html
    assert refused["Referrer-Policy"] == "same-origin"
    assert stored_count() == before
    assert phone.get(url).status_code == 200  # the link is still there to use


def test_a_staff_page_refused_by_the_csrf_check_gets_the_clinics_page(clinic: Clinic) -> None:
    """Elsewhere the same page, in the staff layout, with the way back to the start."""
    nurse = clinic.client("ben")
    nurse.handler.enforce_csrf_checks = True
    refused = nurse.post(f"/scales/patients/{clinic.pat.pk}/links/", {"instruments": ["gad7"]})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "<h1>Your form was not sent</h1>" in html
    assert "CSRF verification failed" not in html and "style=" not in html
    assert 'aria-label="Main"' in html  # the staff navigation
    assert "Go back to the page, reload it" in html


def test_a_refused_link_post_logs_no_token(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    """Django logs each CSRF refusal with the request's path; the console log gets the route
    instead of a link's token (the token opens the patient's questionnaire until it is used)."""
    from ketaclinic.lib.link_pages import LinkTokenRedaction

    url, token = questionnaire_link(clinic)
    phone = Client(enforce_csrf_checks=True)
    phone.get(url)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        assert phone.post(url, GAD7_ALL_TWO).status_code == 403
    records = [r for r in caplog.records if r.name == "django.security.csrf"]
    assert len(records) == 1
    console = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, LinkTokenRedaction) for f in handler.filters)
    ]
    assert len(console) == 1  # settings.LOGGING's console handler
    assert console[0].filter(records[0])  # (it has already run: it edits the record in place)
    message = records[0].getMessage()
    assert token not in message
    assert message.endswith(": /scales/q/<str:token>/")
