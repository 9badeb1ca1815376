from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.testing import Clinic, make_clinic

# Run first: the tests that take minutes and the browser tests, so that with several workers
# (`make pytest`, pytest-xdist) the longest start first and the quick ones fill in at the end,
# instead of one worker finishing a slow test alone. With `--dist worksteal` they all land in
# the first worker's half, one after the other, so the browser tests rarely meet another
# Chromium (`testing_browser.browser` lets only one run at a time in any case).
SLOW_FIRST_MARKERS = ("browser", "thousand", "drill")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests move to the front (a stable sort: otherwise in collection order)."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_FIRST_MARKERS))


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic()
