"""Which step of the session chart comes next, and which steps apply, from what the chart
holds: pure functions (no Django) over plain facts, so that the order of the chart is tested
without a database. The services still decide what is allowed; this only places the forms.

Statuses and roles are their stored values ("checked_in", "nurse"), kept here as text."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEDULED = "scheduled"
CHECKED_IN = "checked_in"
INFUSING = "infusing"
RECOVERY = "recovery"
DISCHARGED = "discharged"
SIGNED = "signed"
BEFORE_START = (SCHEDULED, CHECKED_IN)
CHARTING = (CHECKED_IN, INFUSING, RECOVERY)
SIGNING_ROLES = ("nurse", "clinician")
ROLE_WORDS = {"nurse": "the nurse", "clinician": "the clinician"}

STEP_ORDER = (
    "check_in",
    "prechecks",
    "baseline_vitals",
    "review",
    "dose",
    "second_check",
    "draw",
    "draw_exception",
    "start",
    "infusion_event",
    "stop",
    "vitals",
    "side_effect",
    "assessment",
    "discharge",
    "sign",
    "addendum",
)


@dataclass(frozen=True)
class StepFacts:
    """What the chart holds, as far as the order of its steps goes."""

    status: str
    prechecks_open: bool = True
    """The recorded pre-checks leave something open (or none are recorded)."""
    baseline_recorded: bool = False
    hold: bool = False
    """The latest baseline holds the dose for a clinician's review."""
    hold_reviewed: bool = False
    dose_calculated: bool = False
    dose_second_checked: bool = False
    draw_missing: bool = False
    """Before the start: the ledger draws do not cover the latest dose."""
    draw_exception: bool = False
    signed_roles: frozenset[str] = field(default_factory=frozenset)
    """The roles that have signed the record (nurse, clinician)."""
    viewer_role: str | None = None
    """The role of the person looking at the chart."""


def step_applies(key: str, facts: StepFacts) -> bool:
    """Whether the step is one to offer in the chart's present state."""
    status = facts.status
    unchecked = facts.dose_calculated and not facts.dose_second_checked
    before_draw = status == CHECKED_IN and facts.dose_calculated and facts.draw_missing
    rules = {
        "check_in": status == SCHEDULED,
        "prechecks": status == CHECKED_IN,
        "baseline_vitals": status == CHECKED_IN,
        "review": status == CHECKED_IN and facts.hold,
        "dose": status in BEFORE_START,
        "second_check": status in BEFORE_START and unchecked,
        "draw": before_draw,
        "draw_exception": before_draw and not facts.draw_exception,
        "start": status == CHECKED_IN,
        "infusion_event": status == INFUSING,
        "stop": status == INFUSING,
        "vitals": status in (INFUSING, RECOVERY),
        "side_effect": status in CHARTING,
        "assessment": status in CHARTING,
        "discharge": status == RECOVERY,
        "sign": status == DISCHARGED and facts.viewer_role not in facts.signed_roles,
        "addendum": status == SIGNED,
    }
    return rules[key]


def next_step_key(facts: StepFacts) -> str | None:
    """The step that moves the chart on, in chart order. None once signed, and None for the
    one who has signed while the other signature is awaited (see `waiting_for`)."""
    status = facts.status
    if status == CHECKED_IN:
        if facts.prechecks_open:
            return "prechecks"
        if not facts.baseline_recorded:
            return "baseline_vitals"
        if facts.hold and not facts.hold_reviewed:
            return "review"
        if not facts.dose_calculated:
            return "dose"
        if not facts.dose_second_checked:
            return "second_check"
        if facts.draw_missing:
            return "draw"
        return "start"
    if status == DISCHARGED:
        return None if facts.viewer_role in facts.signed_roles else "sign"
    following = {SCHEDULED: "check_in", INFUSING: "stop", RECOVERY: "discharge"}
    return following.get(status)


def waiting_for(facts: StepFacts) -> str | None:
    """What the chart waits for when it is not the viewer's step: the other signature."""
    if facts.status != DISCHARGED or facts.viewer_role not in facts.signed_roles:
        return None
    missing = [ROLE_WORDS[role] for role in SIGNING_ROLES if role not in facts.signed_roles]
    if not missing:
        return None
    return (
        f"You have signed. Waiting for {' and '.join(missing)} to sign; then the record is frozen."
    )
