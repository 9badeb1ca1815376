from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.testing import Clinic, make_clinic

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


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic()
