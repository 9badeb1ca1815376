"""A patient reading their own record (the portal) never sees a staff flag label; when their
own answer to a self-report questionnaire opened a flag (PHQ-9 item 9) they see supportive text
and the crisis numbers of the public self-screen's crisis block instead. Staff still see the
flag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.template.loader import render_to_string

from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.testing import Clinic

AT = "2026-01-05T09:30:00+01:00"
PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}
STAFF_WORDS = ("Suicide risk", "PHQ-9 item 9", "severity", "No open safety flags", 'class="flag"')


def _administer(clinic: Clinic, answers: dict[str, int], instrument: str = "phq9") -> Any:
    return clinic.api("ben").post(
        f"/api/v1/patients/{clinic.pat.pk}/administrations",
        data=json.dumps({"instrument": instrument, "answers": answers, "administered_at": AT}),
        content_type="application/json",
    )


def _own_pages(clinic: Clinic) -> list[str]:
    """The patient's own pages: the portal's home, reached directly, from the old /me/ address
    and from the front door (never the staff's patient page, which answers 404)."""
    client = clinic.client("pat")
    assert client.get(f"/patients/{clinic.pat.pk}/").status_code == 404
    pages = []
    for url in ("/portal/", "/me/", "/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response.redirect_chain[-1:] in ([], [("/portal/", 302)]), url
        pages.append(response.content.decode())
    return pages


def _crisis_block() -> str:
    """The public self-screen's crisis block, as the patient's page must reuse it."""
    return render_to_string("site/_crisis_urgent.html").strip()


@pytest.mark.parametrize("complete", [True, False])
def test_patient_sees_support_and_crisis_numbers_not_the_staff_flag(
    clinic: Clinic, complete: bool
) -> None:
    answers = PHQ9_ITEM9 if complete else {"1": 2, "9": 3}  # incomplete: no total, still flags
    assert _administer(clinic, answers).status_code == (201 if complete else 422)
    flag = SafetyFlag.objects.get(patient=clinic.pat, status=FlagStatus.ACTIVE)

    for page in _own_pages(clinic):
        assert flag.title not in page
        for words in STAFF_WORDS:
            assert words not in page
        main = page[page.index("<main") :]
        assert main.index(_crisis_block()) < main.index("Hello, Pat")
        assert 'href="tel:988"' in page
        assert "Your care team has been told about your answer" in page

    staff = clinic.client("ben").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert staff.count(flag.title) >= 2  # the banner and the flag's row
    assert 'class="crisis-urgent"' not in staff


def test_a_flag_not_raised_by_the_patients_own_answers_shows_nothing_to_them(
    clinic: Clinic,
) -> None:
    SafetyFlag.objects.create(
        patient=clinic.pat, code="loss_of_consciousness", title="Loss of consciousness (MOAA/S)"
    )
    SafetyFlag.objects.create(
        patient=clinic.pat, code="suicide_risk", title="Suicide risk (C-SSRS)"
    )
    for page in _own_pages(clinic):
        assert "Loss of consciousness" not in page
        assert "Suicide risk" not in page
        assert 'class="crisis-urgent"' not in page
    staff = clinic.client("ben").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "Loss of consciousness (MOAA/S)" in staff


def test_without_an_open_flag_the_patient_sees_no_crisis_block(clinic: Clinic) -> None:
    calm = dict(PHQ9_ITEM9, **{"9": 0})
    assert _administer(clinic, calm).status_code == 201
    for page in _own_pages(clinic):
        assert 'class="crisis-urgent"' not in page
        assert "No open safety flags" not in page
