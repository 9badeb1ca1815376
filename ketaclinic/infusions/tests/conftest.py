"""Fixtures for the session chart (the helpers are in `chart_driver`)."""

from __future__ import annotations

import pytest

from ketaclinic.infusions.tests.chart_driver import Chart, chart_for
from ketaclinic.testing import Clinic


@pytest.fixture
def ledger_chart(clinic: Clinic) -> Chart:
    """A session whose signing meets the real ledger check (no draws recorded)."""
    return chart_for(clinic)


@pytest.fixture
def chart(ledger_chart: Chart, monkeypatch: pytest.MonkeyPatch) -> Chart:
    """A session whose ledger is in order: drawing from the ledger is the ledger app's (its
    tests cover the check); here signing sees no ledger problems."""
    monkeypatch.setattr("ketaclinic.ledger.selectors.session_ledger_problems", lambda session: [])
    return ledger_chart
