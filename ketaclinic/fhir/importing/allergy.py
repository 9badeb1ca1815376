"""What we keep of an imported AllergyIntolerance: an allergy row (``eligibility.Allergy``,
source import), the substance as text, or "no known allergies" for SNOMED CT 716186003 (the
code ``resources/allergy.py`` serves for an empty allergy list; ``eligibility/rules/data/
diagnosis_codes.json`` has it with its source). Our rows are active and never resolved, so a
refuted, entered-in-error or no longer active allergy is refused rather than kept as active.

Conditional create (``request.ifNoneExist``): ``patient=<the entry's patient>&code=<system|
code>`` (``code`` may be repeated, as ``code:text=<substance>`` may). It matches the way our rows
keep an allergy: the no-known-allergy code matches the patient's "no known allergies" rows;
any other code, or ``code:text``, the patient's rows of the substance the entry would be stored
as (its text or display), ignoring case. FHIR answers 412 when a condition matches several
resources; here one allergy is recorded again at every evaluation (each evaluation keeps its
own list), so several rows of one substance are the same allergy: the latest stands for it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from ketaclinic.eligibility.models import Allergy
from ketaclinic.eligibility.rules.diagnosis_codes import code_table
from ketaclinic.fhir.importing.mapping import when
from ketaclinic.fhir.outcome import Issue
from ketaclinic.fhir.resources.allergy import CLINICAL_SYSTEM, SNOMED, VERIFICATION_SYSTEM

_REFUSED_VERIFICATION = ("refuted", "entered-in-error")
_REFUSED_CLINICAL = ("inactive", "resolved")
CRITERIA = ("patient", "code", "code:text")


def _code_of(concept: Any, system: str) -> str:
    for coding in (concept or {}).get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return ""


def _substance(concept: dict[str, Any]) -> str:
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in concept.get("coding") or []:
        display = coding.get("display") if isinstance(coding, dict) else None
        if isinstance(display, str) and display.strip():
            return display.strip()
    return ""


def allergy_fields(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """The allergy row's fields (``no_known``, ``substance``, ``recorded_at``), and the issues
    (paths relative to the resource)."""
    issues: list[Issue] = []
    concept = resource.get("code") or {}
    no_known = _code_of(concept, SNOMED) == code_table().nka_code
    substance = "" if no_known else _substance(concept)
    if not no_known and not substance:
        issues.append(
            Issue(
                "required",
                "an AllergyIntolerance needs the substance as code.text or a coding's display "
                f"(or SNOMED CT {code_table().nka_code} for no known allergies)",
                "AllergyIntolerance.code",
            )
        )
    verification = _code_of(resource.get("verificationStatus"), VERIFICATION_SYSTEM)
    if verification in _REFUSED_VERIFICATION:
        issues.append(
            Issue(
                "not-supported",
                f"a {verification} allergy is not imported (the clinic's allergies are active)",
                "AllergyIntolerance.verificationStatus",
            )
        )
    clinical = _code_of(resource.get("clinicalStatus"), CLINICAL_SYSTEM)
    if clinical in _REFUSED_CLINICAL:
        issues.append(
            Issue(
                "not-supported",
                f"an {clinical} allergy is not imported (the clinic's allergies are active)",
                "AllergyIntolerance.clinicalStatus",
            )
        )
    recorded = resource.get("recordedDate")
    recorded_at = when(recorded)
    if recorded and recorded_at is None:
        issues.append(
            Issue("value", "recordedDate needs a time zone", "AllergyIntolerance.recordedDate")
        )
    fields = {"no_known": no_known, "substance": substance[:300], "recorded_at": recorded_at}
    return fields, issues


def criteria_parse(criteria: str, where: str, issues: list[Issue]) -> dict[str, list[str]] | None:
    """The ifNoneExist query of an AllergyIntolerance entry, or None (an issue added)."""
    values = parse_qs(criteria, keep_blank_values=True)
    unknown = [name for name in values if name not in CRITERIA]
    if unknown or not values.get("patient") or not (values.get("code") or values.get("code:text")):
        issues.append(
            Issue(
                "not-supported",
                "a conditional create of an AllergyIntolerance is patient=<its patient>&code="
                "<system|code> (or code:text=<substance>)",
                where,
            )
        )
        return None
    return values


def allergy_match(
    patient_id: Any, fields: dict[str, Any], values: dict[str, list[str]]
) -> Allergy | None:
    """The patient's recorded allergy the condition finds (the latest), or None."""
    nka = code_table().nka_code
    codes = [c for raw in values.get("code", []) for c in raw.split(",")]
    wants_nka = any(c.rpartition("|")[2] == nka for c in codes)
    rows = Allergy.objects.filter(patient_id=patient_id)
    if wants_nka or fields["no_known"]:
        if not (wants_nka and fields["no_known"]):
            return None  # the condition and the entry disagree: nothing is the same allergy
        rows = rows.filter(no_known=True)
    else:
        texts = {t.strip().lower() for t in values.get("code:text", []) if t.strip()}
        substance = str(fields["substance"]).lower()
        if texts and substance not in texts:
            return None
        rows = rows.filter(no_known=False, substance__iexact=fields["substance"])
    return rows.order_by("-recorded_at", "-pk").first()
