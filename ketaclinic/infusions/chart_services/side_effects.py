"""Side effects and the dissociation and sedation assessments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.infusions.assessments import assessment_ranges
from ketaclinic.infusions.chart_models import ChartEntry, ChartEntryKind
from ketaclinic.infusions.chart_services.common import (
    CHARTING,
    _aware,
    _entry,
    _locked,
    _require_status,
    session_protocol,
)
from ketaclinic.infusions.models import Session

SIDE_EFFECTS = (
    "nausea",
    "vomiting",
    "headache",
    "dizziness",
    "anxiety",
    "hypertension",
    "emergence_reaction",
    "other",
)
SEVERITIES = ("mild", "moderate", "severe")


@transaction.atomic
def side_effect_record(
    *,
    acting_user: Any,
    session: Session,
    at: datetime,
    effect: str,
    severity: str,
    intervention: str = "",
    drug: str = "",
    drug_dose: str = "",
    note: str = "",
) -> ChartEntry:
    require(acting_user, "session.chart")
    problems: dict[str, list[str]] = {}
    if effect not in SIDE_EFFECTS:
        problems["effect"] = [f"Must be one of {', '.join(SIDE_EFFECTS)}."]
    if severity not in SEVERITIES:
        problems["severity"] = [f"Must be one of {', '.join(SEVERITIES)}."]
    if drug.strip() and not drug_dose.strip():
        problems["drug_dose"] = ["A drug given needs its dose."]
    if problems:
        raise ValidationError(problems)
    _aware("at", at)
    locked = _locked(session)
    _require_status(locked, CHARTING, "A side effect")
    data = {
        "effect": effect,
        "severity": severity,
        "intervention": intervention.strip(),
        "drug": drug.strip(),
        "drug_dose": drug_dose.strip(),
        "note": note.strip(),
    }
    return _entry(locked, user=acting_user, kind=ChartEntryKind.SIDE_EFFECT, at=at, data=data)


@transaction.atomic
def assessment_record(
    *, acting_user: Any, session: Session, at: datetime, instrument: str, score: int
) -> ChartEntry:
    """Dissociation (CADSS or the protocol's 0-4 rating) or sedation (MOAA/S) at the protocol's
    times; the accepted range is the instrument's (scales) or the protocol's."""
    from ketaclinic.scales import instruments

    require(acting_user, "session.chart")
    ranges = assessment_ranges(session_protocol(session), instruments.get)
    limits = ranges.get(instrument)
    if limits is None:
        raise ValidationError({"instrument": [f"Must be one of {', '.join(ranges)}."]})
    if not limits.contains(score):
        raise ValidationError({"score": [f"Must be between {limits.low} and {limits.high}."]})
    _aware("at", at)
    locked = _locked(session)
    _require_status(locked, CHARTING, "An assessment")
    data = {"instrument": instrument, "score": score}
    return _entry(locked, user=acting_user, kind=ChartEntryKind.ASSESSMENT, at=at, data=data)
