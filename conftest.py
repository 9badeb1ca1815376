from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.testing import Clinic, make_clinic


@pytest.fixture
def clinic(db: Any) -> Clinic:
    return make_clinic()
