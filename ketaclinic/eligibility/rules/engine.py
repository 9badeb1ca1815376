"""Evaluating rules: adequate trials, conditions, the proposal. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.eligibility.rules.model import (
    KIND_ORDER,
    OUTCOME_OF_KIND,
    OUTCOME_SEVERITY,
    AdequateTrial,
    AllOf,
    AnyOf,
    Condition,
    ContraindicationTicked,
    DiagnosisPrefixIn,
    Evaluation,
    FewerAdequateTrials,
    MedicationClassIn,
    MedicationNameIn,
    MedicationTrial,
    MinimumDoses,
    NoDiagnosisPrefixIn,
    Not,
    Outcome,
    PriorTreatment,
    Proposal,
    PsychotherapyCourse,
    PsychotherapyStandard,
    Reason,
    RuleKind,
    RuleSet,
    TrialAssessment,
    Vitals,
    VitalsAnyAtLeast,
    VitalsMissing,
)

UNRECOGNISED_CHECKLIST_ITEM = "unrecognised_checklist_item"
_ENGINE_SOURCE = "KetaClinic rules engine (a checklist item no rule reads is reviewed by hand)"


def _norm(text: str) -> str:
    return text.strip().casefold()


def _norm_icd(code: str) -> str:
    return code.strip().upper().replace(".", "")


def _has_prefix(diagnoses: Iterable[str], prefixes: Iterable[str]) -> bool:
    wanted = tuple(_norm_icd(p) for p in prefixes)
    return any(_norm_icd(d).startswith(wanted) for d in diagnoses)


def _assess_medication(trial: MedicationTrial, minimum_doses: MinimumDoses) -> tuple[bool, str]:
    entry = minimum_doses.doses.get(_norm(trial.name))
    if entry is None:
        return False, (
            f"{trial.name}: not an {'/'.join(minimum_doses.drug_classes)} in the minimum-dose "
            f"table {minimum_doses.version}"
        )
    if trial.weeks is None or trial.weeks < minimum_doses.minimum_weeks:
        return False, f"{trial.name}: {trial.weeks} weeks, fewer than {minimum_doses.minimum_weeks}"
    if trial.daily_dose_mg is None or trial.daily_dose_mg < entry.minimum_daily_mg:
        return False, (
            f"{trial.name}: {trial.daily_dose_mg} mg/day, below the therapeutic minimum "
            f"{entry.minimum_daily_mg} mg/day"
        )
    return True, (
        f"{trial.name} ({entry.drug_class}): {trial.daily_dose_mg} mg/day for {trial.weeks} weeks"
    )


def _standard_of(
    course: PsychotherapyCourse, minimum_doses: MinimumDoses
) -> PsychotherapyStandard | None:
    wanted = _norm(course.name)
    return next((s for s in minimum_doses.psychotherapies if _norm(s.modality) == wanted), None)


def _assess_psychotherapy(
    course: PsychotherapyCourse, minimum_doses: MinimumDoses, diagnoses: Sequence[str]
) -> tuple[bool, str]:
    standard = _standard_of(course, minimum_doses)
    if standard is None:
        counted = ", ".join(s.modality for s in minimum_doses.psychotherapies)
        return False, f"{course.name}: not a counted psychotherapy ({counted})"
    if standard.diagnosis_prefixes and not _has_prefix(diagnoses, standard.diagnosis_prefixes):
        needed = "/".join(standard.diagnosis_prefixes)
        return False, f"{course.name}: counts only with a {needed} diagnosis"
    if course.sessions is None or course.sessions < standard.minimum_sessions:
        return False, (
            f"{course.name}: {course.sessions} sessions, fewer than {standard.minimum_sessions}"
        )
    return True, f"{course.name}: {course.sessions} sessions"


def trial_assessments(
    prior_treatments: Sequence[PriorTreatment],
    minimum_doses: MinimumDoses,
    diagnoses: Sequence[str],
) -> tuple[TrialAssessment, ...]:
    """Each prior treatment with whether it is adequate and why; each drug or modality once."""
    seen: set[AdequateTrial] = set()
    out: list[TrialAssessment] = []
    for treatment in prior_treatments:
        if isinstance(treatment, MedicationTrial):
            adequate, why = _assess_medication(treatment, minimum_doses)
            entry = minimum_doses.doses.get(_norm(treatment.name))
            key = AdequateTrial("medication", entry.drug if entry else _norm(treatment.name))
        else:
            adequate, why = _assess_psychotherapy(treatment, minimum_doses, diagnoses)
            standard = _standard_of(treatment, minimum_doses)
            key = AdequateTrial("psychotherapy", standard.modality if standard else treatment.name)
        counts_as: AdequateTrial | None = None
        if adequate and key in seen:
            why += " (already counted)"
        elif adequate:
            seen.add(key)
            counts_as = key
        out.append(TrialAssessment(treatment, adequate, why, counts_as))
    return tuple(out)


def adequate_trials(
    prior_treatments: Sequence[PriorTreatment],
    minimum_doses: MinimumDoses,
    diagnoses: Sequence[str],
) -> list[AdequateTrial]:
    """The adequate first-line trials, in the order given, each drug or modality counted once.

    A medication trial is adequate when the drug is in the minimum-dose table (whose classes
    are SSRI/SNRI by default), lasted at least ``minimum_weeks`` and reached the drug's minimum
    daily dose. A psychotherapy course is adequate when its modality is in the table (CBT for
    everyone, ERP only with an F42 diagnosis by default) with enough sessions.
    """
    return [
        a.counts_as
        for a in trial_assessments(prior_treatments, minimum_doses, diagnoses)
        if a.counts_as is not None
    ]


@dataclass(frozen=True)
class _Context:
    evaluation: Evaluation
    adequate_count: int


def _vital(vitals: Vitals | None, name: str) -> int | None:
    if vitals is None:
        return None
    value: int | None = getattr(vitals, name)
    return value


def _holds(condition: Condition, ctx: _Context) -> bool:
    ev = ctx.evaluation
    match condition:
        case ContraindicationTicked(code):
            return code in ev.contraindications
        case VitalsAnyAtLeast(thresholds):
            return any(
                (value := _vital(ev.vitals, name)) is not None and value >= limit
                for name, limit in thresholds
            )
        case VitalsMissing(fields):
            return any(_vital(ev.vitals, name) is None for name in fields)
        case MedicationClassIn(classes):
            wanted = {_norm(c) for c in classes}
            return any(_norm(m.drug_class) in wanted for m in ev.medications)
        case MedicationNameIn(names):
            wanted = {_norm(n) for n in names}
            return any(_norm(m.name) in wanted for m in ev.medications)
        case DiagnosisPrefixIn(prefixes):
            return _has_prefix(ev.diagnoses, prefixes)
        case NoDiagnosisPrefixIn(prefixes):
            return not _has_prefix(ev.diagnoses, prefixes)
        case FewerAdequateTrials(count):
            return ctx.adequate_count < count
        case AllOf(conditions):
            return all(_holds(c, ctx) for c in conditions)
        case AnyOf(conditions):
            return any(_holds(c, ctx) for c in conditions)
        case Not(inner):
            return not _holds(inner, ctx)
    raise TypeError(f"unknown condition {condition!r}")  # pragma: no cover - exhaustive


def _checklist_codes_of(condition: Condition) -> set[str]:
    match condition:
        case ContraindicationTicked(code):
            return {code}
        case AllOf(conditions) | AnyOf(conditions):
            return set().union(*(_checklist_codes_of(c) for c in conditions))
        case Not(inner):
            return _checklist_codes_of(inner)
    return set()


def checklist_codes(ruleset: RuleSet) -> frozenset[str]:
    """The contraindication-checklist codes the rule set reads (for building the form)."""
    codes: set[str] = set()
    for rule in ruleset.rules:
        codes |= _checklist_codes_of(rule.condition)
    return frozenset(codes)


def eligibility_propose(
    evaluation: Evaluation, ruleset: RuleSet, minimum_doses: MinimumDoses
) -> Proposal:
    """Evaluate every rule; the outcome is the most severe kind among those that fired.

    Reasons are ordered absolute, relative, requirement, each in rule-set order; unknown
    checklist items come last.
    """
    trials = tuple(
        adequate_trials(evaluation.prior_treatments, minimum_doses, evaluation.diagnoses)
    )
    ctx = _Context(evaluation, len(trials))
    fired = [rule for rule in ruleset.rules if _holds(rule.condition, ctx)]
    fired.sort(key=lambda rule: KIND_ORDER[rule.kind])  # stable: keeps rule-set order
    reasons = [Reason(r.code, r.kind, r.description, r.source) for r in fired]
    known = checklist_codes(ruleset)
    for code in sorted(evaluation.contraindications - known):
        reasons.append(
            Reason(
                UNRECOGNISED_CHECKLIST_ITEM,
                RuleKind.REQUIREMENT,
                f"Checklist item {code!r} is not read by any rule of rule set "
                f"{ruleset.version}; review it by hand.",
                _ENGINE_SOURCE,
            )
        )
    outcome = max(
        (OUTCOME_OF_KIND[r.kind] for r in reasons),
        key=OUTCOME_SEVERITY.__getitem__,
        default=Outcome.ELIGIBLE,
    )
    return Proposal(outcome, tuple(reasons), ruleset.version, minimum_doses.version, trials)


def proposal_to_dict(proposal: Proposal) -> dict[str, Any]:
    """The proposal as JSON-ready data (the issue's shape plus the dose table and trials)."""
    return {
        "outcome": str(proposal.outcome),
        "reasons": [
            {"code": r.code, "kind": str(r.kind), "text": r.text, "source": r.source}
            for r in proposal.reasons
        ],
        "rules_version": proposal.rules_version,
        "minimum_doses_version": proposal.minimum_doses_version,
        "adequate_trials": [{"kind": t.kind, "name": t.name} for t in proposal.adequate_trials],
    }
