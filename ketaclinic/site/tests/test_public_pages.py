"""The public site: every page is open to anyone, carries the crisis and 'not medical advice'
notices, shows Markdown without scripts, and only administrators may edit it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.site.models import Page
from ketaclinic.site.rendering import markdown_to_safe_html
from ketaclinic.testing import Clinic

SHIPPED = (
    "generalized-anxiety",
    "social-anxiety",
    "panic-disorder",
    "ocd",
    "how-ketamine-therapy-works",
    "what-a-session-is-like",
    "who-may-not-be-a-candidate",
    "faq",
)
PUBLIC_URLS = (
    "/clinic/",
    "/clinic/inquiry/",
    "/clinic/inquiry/thanks/",
    *(f"/clinic/{slug}/" for slug in SHIPPED),
)


def _assert_notices(html: str) -> None:
    assert "988" in html
    assert "911" in html
    assert "This is not medical advice" in html


@pytest.mark.django_db
def test_shipped_pages_are_loaded_by_the_migration() -> None:
    slugs = set(Page.objects.values_list("slug", flat=True))
    assert set(SHIPPED) <= slugs
    for page in Page.objects.filter(slug__in=SHIPPED):
        assert page.title
        assert "## Sources" in page.body, f"{page.slug} states facts without sources"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_page_renders_anonymously_with_crisis_and_disclaimer(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    _assert_notices(html)
    # No third-party assets: every script and stylesheet is our own.
    for src in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html):
        assert src.startswith(("/", "data:")), src


@pytest.mark.django_db
def test_home_shows_clinic_details_from_settings(settings: Any) -> None:
    settings.KETACLINIC_CLINIC_NAME = "Harbour Anxiety Clinic"
    settings.KETACLINIC_CLINIC_HOURS = "Tuesdays only"
    html = Client().get("/clinic/").content.decode()
    assert "Harbour Anxiety Clinic" in html
    assert "Tuesdays only" in html
    for slug in SHIPPED:
        assert f'href="/clinic/{slug}/"' in html


@pytest.mark.django_db
def test_unknown_page_is_404() -> None:
    assert Client().get("/clinic/no-such-page/").status_code == 404


def test_markdown_script_is_removed() -> None:
    html = markdown_to_safe_html(
        "Hello\n\n<script>alert('x')</script>\n\n"
        '<img src="https://tracker.example/p.gif" onerror="alert(1)">\n\n'
        '[click](javascript:alert(1)) <a href="https://ok.example" onclick="x()">ok</a>'
    )
    assert "<script" not in html
    assert "alert(" not in html
    assert "<img" not in html
    assert "onclick" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in html


@pytest.mark.django_db
def test_page_with_script_in_its_body_is_shown_sanitised() -> None:
    Page.objects.filter(slug="faq").update(body="## Hi\n\n<script>alert('x')</script>**bold**")
    html = Client().get("/clinic/faq/").content.decode()
    assert "alert('x')" not in html
    assert "<strong>bold</strong>" in html


@pytest.mark.parametrize(
    ("username", "status"),
    [("ada", 403), ("ben", 403), ("cleo", 403), ("pat", 403), ("dana", 200)],
)
def test_only_admins_may_open_the_page_editor(clinic: Clinic, username: str, status: int) -> None:
    assert clinic.client(username).get("/clinic/faq/edit/").status_code == status


def test_anonymous_page_editor_goes_to_login(db: object) -> None:
    response = Client().get("/clinic/faq/edit/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


@pytest.mark.parametrize("username", ["ada", "ben", "cleo", "pat"])
def test_non_admin_cannot_save_a_page(clinic: Clinic, username: str) -> None:
    before = Page.objects.get(slug="faq").body
    response = clinic.client(username).post(
        "/clinic/faq/edit/", {"title": "Hacked", "summary": "", "body": "gone"}
    )
    assert response.status_code == 403
    page = Page.objects.get(slug="faq")
    assert page.body == before
    assert page.title != "Hacked"


def test_admin_edits_a_page_and_the_change_is_audited(clinic: Clinic) -> None:
    dana = clinic.client("dana")
    response = dana.post(
        "/clinic/faq/edit/",
        {"title": "Questions", "summary": "Short answers.", "body": "## New\n\nText <b>x</b>"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/clinic/faq/"
    page = Page.objects.get(slug="faq")
    assert page.title == "Questions"
    assert page.updated_by == clinic.users["dana"]
    event = AuditEvent.objects.filter(object_type="Page").get()
    assert event.action == Action.UPDATE
    assert event.object_id == "faq"
    assert event.patient_id is None
    html = Client().get("/clinic/faq/").content.decode()
    assert "<h2>New</h2>" in html
    _assert_notices(html)  # the notices belong to the template, no edit removes them


def test_admin_sees_an_edit_link_and_others_do_not(clinic: Clinic) -> None:
    assert "/clinic/faq/edit/" in clinic.client("dana").get("/clinic/faq/").content.decode()
    assert "/clinic/faq/edit/" not in Client().get("/clinic/faq/").content.decode()
    assert "/clinic/faq/edit/" not in clinic.client("cleo").get("/clinic/faq/").content.decode()
