"""The staff patient list pages through every patient (issue 12, item 12): 50 a page, the count
shown ("Showing 51-63 of 63"), previous and next; the live search (HTMX, POSTed) pages its
results too, carrying the search in the POST body, never in a URL; a fixed number of queries
whatever the number of patients."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

EXTRA = 61  # with Pat and Quinn: 63 patients, two pages of 50


def _many(n: int = EXTRA) -> None:
    Patient.objects.bulk_create(
        Patient(
            mrn=f"T{i:05d}",
            given_name=f"Test{i:02d}",
            family_name="Zed",
            birth_date=date(1990, 1, 1),
            sex_at_birth="female",
        )
        for i in range(1, n + 1)
    )


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/patients/[0-9a-f-]{36}/">([^<]+)</a>', html)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _urls(html: str) -> list[str]:
    return re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html)


def test_page_one_shows_fifty_with_the_count_and_page_two_has_the_rest(clinic: Clinic) -> None:
    _many()
    client = clinic.client("ben")
    first = client.get("/patients/").content.decode()
    assert len(_names(first)) == 50
    assert "Showing 1-50 of 63" in _text(first)
    assert "Zed, Test61" not in first
    assert 'name="page" value="2"' in first  # next
    second = client.get("/patients/?page=2").content.decode()
    assert _names(second)[-1] == "Zed, Test61"
    assert len(_names(second)) == 13
    assert "Showing 51-63 of 63" in _text(second)
    assert 'name="page" value="1"' in second  # previous
    assert 'name="page" value="3"' not in second
    # Paging by POST (the pager's buttons) gives the same page.
    posted = client.post("/patients/", {"q": "", "page": "2"}).content.decode()
    assert _names(posted) == _names(second)


def test_an_out_of_range_or_bad_page_number_shows_a_real_page(clinic: Clinic) -> None:
    _many()
    client = clinic.client("ben")
    assert "Showing 51-63 of 63" in _text(client.get("/patients/?page=99").content.decode())
    assert "Showing 1-50 of 63" in _text(client.get("/patients/?page=x").content.decode())


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_search_narrows_and_pages_with_the_term_never_in_a_url(
    clinic: Clinic, htmx: bool
) -> None:
    _many()
    client = clinic.client("ben")
    headers = {"HX-Request": "true"} if htmx else {}
    first = client.post("/patients/", {"q": "test"}, headers=headers).content.decode()
    assert len(_names(first)) == 50
    assert all(name.startswith("Zed, Test") for name in _names(first))
    assert "Showing 1-50 of 61" in _text(first)
    # The pager POSTs the search with the page number; no URL holds the name.
    assert re.search(r'<input type="hidden" name="q" value="test"', first)
    assert all("test" not in url.lower() for url in _urls(first)), _urls(first)
    second = client.post("/patients/", {"q": "test", "page": "2"}, headers=headers)
    html = second.content.decode()
    assert _names(html) == [f"Zed, Test{i}" for i in range(51, 62)]
    assert "Showing 51-61 of 61" in _text(html)
    assert all("test" not in url.lower() for url in _urls(html))
    if htmx:  # the partial replaces the results: count, rows and pager
        assert "<html" not in html and 'id="patient-results"' not in html
    narrow = client.post("/patients/", {"q": "Test61"}, headers=headers).content.decode()
    assert _names(narrow) == ["Zed, Test61"]
    assert "Showing 1-1 of 1" in _text(narrow)
    assert 'name="page"' not in narrow  # one page: no pager


def test_the_number_of_queries_does_not_grow_with_the_patients(clinic: Clinic) -> None:
    client = clinic.client("ben")
    client.get("/patients/")  # the session and user are loaded once per request anyway
    with CaptureQueriesContext(connection) as few:
        assert client.get("/patients/").status_code == 200
    _many()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/patients/?page=2").status_code == 200
    assert len(many) == len(few)
    # 12 for the page, its count and the audit; 5 more, fixed, for the rows' flags, courses,
    # next sessions, eligibility decisions and evaluations (patients.selectors.patient_rows).
    assert len(many) <= 17, [q["sql"] for q in many.captured_queries]
