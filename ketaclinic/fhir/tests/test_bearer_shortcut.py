"""A program's FHIR GET skips the browser layers (``fhir/middleware.py``): the same answer and
security headers as through the whole chain; anything else still takes the whole chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.db import DataError, OperationalError
from django.http import Http404
from django.test import Client, RequestFactory, override_settings

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir import middleware
from ketaclinic.fhir.tests.test_fast_search import _record
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db

SHORTCUT = "ketaclinic.fhir.middleware.BearerShortcutMiddleware"
HEADERS = (
    "Content-Type",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cache-Control",
)


def _without_shortcut() -> Any:
    assert SHORTCUT in settings.MIDDLEWARE
    return override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != SHORTCUT])


def _entries(response: Any) -> Any:
    body = json.loads(response.content)
    return body.get("total"), [e.get("resource") for e in body.get("entry", [])], body.get("issue")


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/R4/Observation?patient={pat}&_count=5",
        "/fhir/R4/Patient/{pat}",
        "/fhir/R4/Observation?patient={other}",  # 404: not the caller's patient
        "/fhir/R4/Observation?wrong=1&patient={pat}&_count=5",
        "/fhir/R4/metadata",
    ],
)
def test_the_same_answer_and_headers_as_through_the_whole_chain(clinic: Clinic, path: str) -> None:
    patient = _record(clinic)
    url = path.format(pat=patient.pk, other="00000000-0000-4000-8000-000000000000")
    token = clinic.token("ben")
    direct = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(url)
    with _without_shortcut():
        whole = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(url)
    assert direct.status_code == whole.status_code
    if "metadata" not in path:  # its date is the moment it is asked
        assert _entries(direct) == _entries(whole)
    for name in HEADERS:
        assert direct.get(name) == whole.get(name), name
    assert direct["Content-Security-Policy"] and direct["X-Frame-Options"] == "DENY"
    assert int(direct["Content-Length"]) == len(direct.content)
    assert direct["X-Request-ID"]


def test_a_bad_token_is_refused_alike(clinic: Clinic) -> None:
    url = f"/fhir/R4/Observation?patient={clinic.pat.pk}"
    direct = Client(HTTP_AUTHORIZATION="Bearer nope").get(url)
    with _without_shortcut():
        whole = Client(HTTP_AUTHORIZATION="Bearer nope").get(url)
    assert direct.status_code == whole.status_code == 401
    assert direct["WWW-Authenticate"] == whole["WWW-Authenticate"] == "Bearer"
    assert direct.content == whole.content


def test_the_reads_are_still_audited_through_the_shortcut(clinic: Clinic) -> None:
    patient = _record(clinic)
    before = AuditEvent.objects.count()
    response = clinic.api("ben").get(f"/fhir/R4/Observation?patient={patient.pk}&_count=5")
    assert response.status_code == 200
    (event,) = AuditEvent.objects.order_by("seq")[before:]
    assert len(event.object_id_list) == 5 and event.request_id == response["X-Request-ID"]


def test_only_a_cookieless_bearer_get_under_the_fhir_base_takes_it() -> None:
    factory = RequestFactory()
    bearer: dict[str, Any] = {"HTTP_AUTHORIZATION": "Bearer kc_x"}
    assert middleware._shortcut(factory.get("/fhir/R4/Observation", **bearer))
    assert middleware._shortcut(factory.head("/fhir/R4/metadata", **bearer))
    assert not middleware._shortcut(factory.get("/fhir/R4/Observation"))
    basic: dict[str, Any] = {"HTTP_AUTHORIZATION": "Basic x"}
    assert not middleware._shortcut(factory.get("/fhir/R4/Observation", **basic))
    assert not middleware._shortcut(factory.post("/fhir/R4/Observation", **bearer))
    assert not middleware._shortcut(factory.get("/patients/", **bearer))
    assert not middleware._shortcut(
        factory.get("/fhir/R4/Observation", HTTP_COOKIE="sessionid=x", **bearer)
    )


def test_a_path_that_does_not_resolve_takes_the_whole_chain(clinic: Clinic) -> None:
    response = clinic.api("ben").get("/fhir/R4/Observation/a/b/c")
    with _without_shortcut():
        whole = clinic.api("ben").get("/fhir/R4/Observation/a/b/c")
    assert response.status_code == whole.status_code
    assert response.content == whole.content


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DataError("value out of range"), 422),
        (OperationalError("server closed the connection unexpectedly"), 503),
        (RuntimeError("a defect"), 500),
        (Http404("gone"), 404),
    ],
)
def test_a_views_exception_is_answered_as_through_the_whole_chain(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    """The shortcut calls the view itself, so Django's exception hooks (the program errors
    middleware's) would not run: it applies the same answer."""
    from ketaclinic.fhir import views

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(views, "capability_statement", broken)
    middleware._resolved.cache_clear()
    token = clinic.token("ben")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
    try:
        direct = client.get("/fhir/R4/metadata")
        with _without_shortcut():
            whole = client.get("/fhir/R4/metadata")
    finally:
        middleware._resolved.cache_clear()
    assert direct.status_code == whole.status_code == status
    assert direct["Content-Type"] == whole["Content-Type"]
    assert direct["Content-Type"].startswith("application/fhir+json")
    assert json.loads(direct.content)["resourceType"] == "OperationOutcome"
    assert _entries(direct) == _entries(whole)
