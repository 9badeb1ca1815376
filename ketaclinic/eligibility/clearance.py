"""Whether a patient is cleared to start a course of treatment.

`treatment_clearance(patient)` is what a course start asks. A patient is cleared only when the
latest eligibility decision a clinician recorded is "eligible" and the patient has signed the
currently active version of every required consent document. Anything else is refused, with
the reasons staff see.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.consent.services import consent_missing
from ketaclinic.eligibility.models import DecisionChoice
from ketaclinic.eligibility.services import decision_latest
from ketaclinic.patients.models import Patient

NO_ELIGIBLE_DECISION = "no eligible decision recorded"
NO_CURRENT_CONSENT = "no current consent"


@dataclass(frozen=True)
class Clearance:
    cleared: bool
    reasons: tuple[str, ...]
    """Why the patient is not cleared, in the words staff see; empty when cleared."""


def treatment_clearance(patient: Patient) -> Clearance:
    """Cleared only with a latest decision "eligible" and a current consent (two queries)."""
    reasons: list[str] = []
    latest = decision_latest(patient)
    if latest is None:
        reasons.append(NO_ELIGIBLE_DECISION)
    elif latest.decision != DecisionChoice.ELIGIBLE:
        reasons.append(f"{NO_ELIGIBLE_DECISION}: the latest decision is {latest.decision}")
    missing = consent_missing(patient)
    if missing:
        titles = ", ".join(f"{d.title} (version {d.version})" for d in missing)
        reasons.append(f"{NO_CURRENT_CONSENT}: not signed: {titles}")
    return Clearance(cleared=not reasons, reasons=tuple(reasons))
