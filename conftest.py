from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.testing import Clinic, make_clinic

# Run first: the tests that take minutes (and the browser group, one unit of work), so that
# with several workers (`make pytest`, pytest-xdist) the longest start first and the quick
# ones fill in at the end, instead of one worker finishing a slow test alone at the end.
SLOW_FIRST_MARKERS = ("thousand", "drill", "browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests share one xdist group (with `--dist loadgroup` they run one at a time on
    one worker: each starts a Chromium and a live server, and two at once on a 2-core machine
    push them past their timeouts); slow tests move to the front (a stable sort)."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_FIRST_MARKERS))


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic()
