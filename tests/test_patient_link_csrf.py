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

from ketaclinic.intake import consent_services
from ketaclinic.intake.models_eligibility import ConsentSignature
from ketaclinic.intake.tests.eligibility_helpers import (
    eligibility_rows,  # noqa: F401  autouse: the shipped consent documents
)
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

