from __future__ import annotations

import os
from typing import Any

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from ketaclinic.testing import Clinic, make_clinic
from ketaclinic.testing.clinic_zone import midday_zone

# Run first: the tests that take minutes and the browser tests, so that with several workers
# (`make pytest`, pytest-xdist) the longest start first and the quick ones fill in at the end,
# instead of one worker finishing a slow test alone. The browser tests stay together, so they
# rarely meet another Chromium (`testing.browser.browser` lets only one run at a time anyway).
SLOW_FIRST_MARKERS = ("browser", "thousand", "drill")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests move to the front (a stable sort: otherwise in collection order).
    tryfirst, so that pytest-django's own ordering comes after and wins: the tests that roll
    back (`db`), then those that flush the tables (`transactional_db`), then the rest; this
    order holds within each of its three parts."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_FIRST_MARKERS))


def pytest_configure(config: pytest.Config) -> None:
    """Unless the developer chose a zone, the clinic is at midday for this run
    (`testing/clinic_zone.py` says why). Set for this process (Django's setting-changed signal
    resets its zone caches and the process's TZ, which Chromium inherits) and, through the
    environment, for every `ketaclinic` process a test starts. xdist workers choose the same
    zone: the controller hands its choice down in the environment."""
    chosen = os.environ.get("KETACLINIC_TEST_CHOSEN_ZONE")
    if chosen is None:
        if "KETACLINIC_TIME_ZONE" in os.environ:
            return
        chosen = midday_zone(timezone.now())
        os.environ["KETACLINIC_TEST_CHOSEN_ZONE"] = chosen
    os.environ["KETACLINIC_TIME_ZONE"] = chosen
    override_settings(TIME_ZONE=chosen).enable()


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic()
