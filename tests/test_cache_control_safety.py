"""Issue 18 item 9: every response that carries patient data says ``Cache-Control: no-store``.

The URL kinds are built with the role matrix's own builders (tests/test_url_matrix.py), so a
row here opens the same page the matrix proves the persona may open. The exceptions (a public
page for an anonymous visitor, a static file, the health check) must stay cacheable.
"""

from __future__ import annotations

import pytest
from django.test import Client

from ketaclinic.testing import Clinic
from tests.test_url_matrix import MATRIX

# (URL kind, the matrix row that builds its URL, who opens it: a persona, "api:<persona>" for
# a bearer token, or None for a patient holding a link)
PATIENT_DATA = [
    ("patient page", "patients/<uuid:patient_id>/", "ada"),
    ("chart", "infusions/sessions/<uuid:session_id>/", "ben"),
    ("session PDF", "infusions/sessions/<uuid:session_id>/record.pdf", "ada"),
    ("chair board", "infusions/board/", "ben"),
    ("API JSON", "api/v1/patients/<patient_id>", "api:ada"),
    ("FHIR JSON", "fhir/R4/Observation", "api:ada"),
    ("consent PDF", "intake/consents/<int:signature_id>/pdf/", "ada"),
    ("FHIR Binary (consent PDF)", "fhir/R4/Binary/<str:resource_id>", "api:pat"),
    ("questionnaire link page", "scales/q/<str:token>/", None),
    ("consent link page", "intake/sign/<str:token>/", None),
    ("public page, signed in", "clinic/", "ben"),
]


def _client(clinic: Clinic, who: str | None) -> Client:
    if who is None:
        return Client()
    if who.startswith("api:"):
        return clinic.api(who.removeprefix("api:"))
    return clinic.client(who)


def _directives(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


@pytest.mark.parametrize(("kind", "route", "who"), PATIENT_DATA, ids=[r[0] for r in PATIENT_DATA])
def test_responses_with_patient_data_are_not_stored(
    clinic: Clinic, kind: str, route: str, who: str | None
) -> None:
    build, _checks = MATRIX[route]
    response = _client(clinic, who).get(build(clinic))
    assert response.status_code == 200, kind
    assert "no-store" in _directives(response.get("Cache-Control", "")), kind


def test_api_answers_vary_on_authorization_and_pages_on_cookie(clinic: Clinic) -> None:
    api = clinic.api("ada").get(f"/api/v1/patients/{clinic.pat.pk}")
    assert "authorization" in {v.strip().lower() for v in api["Vary"].split(",")}
    page = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/")
    assert "cookie" in {v.strip().lower() for v in page["Vary"].split(",")}


def test_an_error_answer_to_a_signed_in_user_is_not_stored(clinic: Clinic) -> None:
    response = clinic.client("ada").get("/patients/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "no-store" in _directives(response.get("Cache-Control", ""))


@pytest.mark.parametrize(
    "url",
    ["/clinic/", "/healthz", "/static/css/app.css"],
    ids=["public page, anonymous", "health check", "static file"],
)
def test_the_exceptions_stay_cacheable(clinic: Clinic, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 200, url
    assert "no-store" not in _directives(response.get("Cache-Control", "")), url
