"""Whether a patient is cleared to start a course of treatment.

`treatment_clearance(patient)` is what a course start asks. Until the intake issue's
eligibility decisions and consents exist, it answers "not cleared" with the two reasons they
will settle: refusing is the safe default, since starting treatment without a recorded
eligible decision and a current consent must never happen by accident. The intake issue
replaces the body of `treatment_clearance` (keeping its signature and `Clearance`) with the
real checks on the latest eligibility decision and the patient's current consent.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.patients.models import Patient

NO_ELIGIBLE_DECISION = "no eligible decision recorded"
NO_CURRENT_CONSENT = "no current consent"


@dataclass(frozen=True)
class Clearance:
    cleared: bool
    reasons: tuple[str, ...]
    """Why the patient is not cleared, in the words staff see; empty when cleared."""


def treatment_clearance(patient: Patient) -> Clearance:
    """Not cleared until the intake issue records eligibility decisions and consents."""
    return Clearance(cleared=False, reasons=(NO_ELIGIBLE_DECISION, NO_CURRENT_CONSENT))
