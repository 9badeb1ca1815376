"""Patients never see the ledger: every ledger URL answers them 403 (or 404), whatever the
method, and reveals nothing; anonymous callers are sent to log in."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ketaclinic.ledger.models import Container, LedgerEntry
from ketaclinic.testing import Clinic


def _routes(patterns: Sequence[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    found: list[str] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def ledger_urls(ids: dict[str, int]) -> list[str]:
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if "ledger" not in route:
            continue
        url = "/" + route.lstrip("^").rstrip("$")
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), url)
        urls.append(url)
    return urls


@pytest.mark.parametrize("username", ["pat", "quinn"])
def test_patients_are_refused_on_every_ledger_url(
    clinic: Clinic, vial: Container, username: str
) -> None:
    entry = LedgerEntry.objects.get(container=vial)
    ids = {
        "container_id": vial.pk,
        "location_id": vial.location_id,
        "entry_id": entry.pk,
        "draw_id": entry.pk,
        "investigation_id": 1,
    }
    urls = ledger_urls(ids)
    assert len(urls) >= 20
    api, page = clinic.api(username), clinic.client(username)
    for url in urls:
        client = api if url.startswith("/api/") else page
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in {403, 404, 405}, (method, url, response.status_code)
            assert b"balance" not in response.content
            assert vial.lot.encode() not in response.content


def test_anonymous_callers_are_refused_on_every_ledger_url(clinic: Clinic, vial: Container) -> None:
    for url in ledger_urls({"container_id": vial.pk}):
        response = clinic.client(None).get(url)
        assert response.status_code in {302, 401, 405}, (url, response.status_code)


def test_intake_does_not_see_the_ledger(clinic: Clinic, vial: Container) -> None:
    assert clinic.api("cleo").get(f"/api/v1/ledger/containers/{vial.pk}").status_code == 403
    assert clinic.api("cleo").get("/api/v1/ledger/containers").status_code == 403


def test_an_unknown_or_malformed_container_id_is_a_json_404(clinic: Clinic) -> None:
    for cid in ("999999", "abc"):
        response = clinic.api("ben").get(f"/api/v1/ledger/containers/{cid}")
        assert response.status_code == 404
        assert response.json()["detail"] == "Not found"
