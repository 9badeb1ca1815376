"""The navigation shows each role the places it may open, and only those."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from ketaclinic.accounts.access import user_can
from ketaclinic.testing import Clinic
from ketaclinic.web.context import NAVIGATION, navigation


@pytest.mark.parametrize("username", ["ada", "ben", "cleo", "dana", "pat"])
def test_each_role_sees_the_places_it_may_open(clinic: Clinic, username: str) -> None:
    request = RequestFactory().get("/")
    user = clinic.users[username]
    request.user = user
    items = navigation(request)["nav_items"]
    assert isinstance(items, list)
    shown = {item["label"]: item["url"] for item in items}
    expected = {item.label for item in NAVIGATION if user_can(user, item.permission or "")}
    assert set(shown) == expected
    for url in shown.values():
        assert clinic.client(username).get(url, follow=True).status_code == 200, url


def test_the_chair_board_is_in_the_navigation_of_the_infusion_team(clinic: Clinic) -> None:
    for username, shown in (("ada", True), ("ben", True), ("dana", True), ("cleo", False)):
        page = clinic.client(username).get(
            "/patients/" if username != "cleo" else "/intake/inquiries/"
        )
        assert ('href="/infusions/board/"' in page.content.decode()) is shown, username
