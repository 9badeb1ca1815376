"""What we keep of each imported resource: a FHIR Patient as our patient's fields, a Condition
as a diagnosis row, a score Observation as a stored Observation of one of our instruments.
Each function returns what it found and the issues (paths relative to the resource)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

from ketaclinic.eligibility.rules.diagnosis_codes import code_table
from ketaclinic.fhir.observation import observation_code
from ketaclinic.fhir.outcome import Issue
from ketaclinic.fhir.questionnaire import canonical_base
from ketaclinic.fhir.resources.condition import (
    CATEGORY_DISPLAY,
    CATEGORY_SYSTEM,
    CLINICAL_STATUSES,
    CLINICAL_SYSTEM,
    ICD10_CM,
    SNOMED,
    VERIFICATION_STATUSES,
    VERIFICATION_SYSTEM,
)
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument

# Administrative gender is not sex at birth: only male and female are taken as such; other
# and unknown (and no gender) are recorded as unknown, for the clinic to ask.
_SEX_AT_BIRTH = {"male": "male", "female": "female"}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def patient_fields(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """Our patient's fields from a Patient: the official (else first) name, birth date, sex,
    the first phone and e-mail, the first address as one line."""
    issues: list[Issue] = []
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(_text(g) for g in name.get("given") or [] if _text(g))
    family = _text(name.get("family"))
    if not given:
        issues.append(Issue("required", "a given name is required", "Patient.name.given"))
    if not family:
        issues.append(Issue("required", "a family name is required", "Patient.name.family"))
    birth = resource.get("birthDate")
    if not birth:
        issues.append(Issue("required", "the birth date is required", "Patient.birthDate"))
    elif str(birth) > datetime.now(tz=UTC).date().isoformat():
        issues.append(Issue("value", "the birth date is in the future", "Patient.birthDate"))
    fields: dict[str, Any] = {
        "given_name": given[:100],
        "family_name": family[:100],
        "birth_date": birth,
        "sex_at_birth": _SEX_AT_BIRTH.get(str(resource.get("gender")), "unknown"),
    }
    for contact in resource.get("telecom") or []:
        system, value = contact.get("system"), _text(contact.get("value"))
        if system == "phone" and value and "phone" not in fields:
            fields["phone"] = value[:40]
        if system == "email" and value and "email" not in fields:
            fields["email"] = value[:254]
    addresses = resource.get("address") or []
    if addresses:
        first = addresses[0]
        parts = [*(first.get("line") or []), first.get("city"), first.get("state")]
        parts += [first.get("postalCode"), first.get("country")]
        fields["address"] = ", ".join(_text(p) for p in parts if _text(p))[:500]
    return fields, issues


def when(value: Any) -> datetime | None:
    """An aware datetime from a FHIR date or dateTime (a date is taken as midnight UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        try:
            if "T" not in value:  # a FHIR date (YYYY-MM-DD); partial dates are not kept
                return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def _code_of(concept: Any, system: str) -> str:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return ""


def condition_fields(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """A diagnosis row's fields from a Condition: ICD-10-CM and/or SNOMED CT (one is needed),
    statuses, category (problem-list-item unless it says encounter-diagnosis), severity (the
    condition-severity codes), onset, abatement and recorded dates. The encounter and the
    recorder of the other system are not kept (their records are not imported)."""
    issues: list[Issue] = []
    concept = resource.get("code") or {}
    icd10 = _code_of(concept, ICD10_CM).upper()
    snomed = _code_of(concept, SNOMED)
    if not icd10 and not snomed:
        issues.append(
            Issue(
                "not-supported",
                f"a Condition needs an ICD-10-CM ({ICD10_CM}) or SNOMED CT ({SNOMED}) coding",
                "Condition.code",
            )
        )
    codings = concept.get("coding") or []
    display = _text(concept.get("text")) or next(
        (_text(c.get("display")) for c in codings if _text(c.get("display"))), icd10 or snomed
    )
    category = "problem-list-item"
    for item in resource.get("category") or []:
        code = _code_of(item, CATEGORY_SYSTEM)
        if code in CATEGORY_DISPLAY:
            category = code
            break
    clinical = _code_of(resource.get("clinicalStatus"), CLINICAL_SYSTEM)
    verification = _code_of(resource.get("verificationStatus"), VERIFICATION_SYSTEM)
    if clinical and clinical not in CLINICAL_STATUSES:
        issues.append(
            Issue("value", f"unknown clinical status {clinical!r}", "Condition.clinicalStatus")
        )
    if verification and verification not in VERIFICATION_STATUSES:
        issues.append(
            Issue(
                "value",
                f"unknown verification status {verification!r}",
                "Condition.verificationStatus",
            )
        )
    severities = {code: label for label, code in code_table().severity_codes.items()}
    severity = severities.get(_code_of(resource.get("severity"), SNOMED), "")
    fields: dict[str, Any] = {
        "icd10": icd10[:16],
        "snomed": snomed[:20],
        "display": display[:300] or "(no text)",
        "category": category,
        "clinical_status": clinical,
        "verification_status": verification or "unconfirmed",
        "severity": severity,
        "onset": when(resource.get("onsetDateTime")),
        "abatement": when(resource.get("abatementDateTime")),
        "recorded_at": when(resource.get("recordedDate")),
    }
    for name, key in (("onsetDateTime", "onset"), ("abatementDateTime", "abatement")):
        if resource.get(name) and fields[key] is None:
            issues.append(Issue("value", f"{name} needs a time zone", f"Condition.{name}"))
    return fields, issues


@cache
def score_instruments() -> dict[str, Instrument]:
    """Our instruments by the LOINC code of their total score (70274-6 GAD-7, ...)."""
    found = {}
    for instrument in instruments.load_builtin().values():
        system, code = observation_code(instrument, canonical_base())
        if system == LOINC and instrument.scoring.min_total is not None:
            found[code] = instrument
    return found


def _score_codes_text() -> str:
    return ", ".join(
        f"{code} {instrument.code}" for code, instrument in score_instruments().items()
    )


def observation_score(
    resource: dict[str, Any],
) -> tuple[Instrument | None, int | None, list[Issue]]:
    """The instrument and total of a score Observation, or the issues saying why not."""
    issues: list[Issue] = []
    instrument = None
    for coding in (resource.get("code") or {}).get("coding") or []:
        if coding.get("system") == LOINC and coding.get("code") in score_instruments():
            instrument = score_instruments()[coding["code"]]
            break
    if instrument is None:
        issues.append(
            Issue(
                "not-supported",
                "only rating-scale scores are imported as Observations: a LOINC code that is "
                f"the total of one of our instruments ({_score_codes_text()}); vital signs, "
                "laboratory results and other Observations are refused",
                "Observation.code",
            )
        )
        return None, None, issues
    value: Any = None
    if "valueQuantity" in resource:
        value = (resource.get("valueQuantity") or {}).get("value")
    elif "valueInteger" in resource:
        value = resource.get("valueInteger")
    low, high = instrument.scoring.min_total, instrument.scoring.max_total
    try:
        total = int(value) if value is not None and float(value) == int(value) else None
    except (TypeError, ValueError):
        total = None
    if total is None or low is None or high is None or not low <= total <= high:
        issues.append(
            Issue(
                "value",
                f"the {instrument.code} total must be a whole number from {low} to {high}",
                "Observation.value",
            )
        )
    if resource.get("status") not in ("final", "amended", "corrected"):
        issues.append(
            Issue("value", "status must be final, amended or corrected", "Observation.status")
        )
    if when(resource.get("effectiveDateTime")) is None:
        issues.append(
            Issue(
                "required",
                "effectiveDateTime with a time zone is required",
                "Observation.effectiveDateTime",
            )
        )
    return instrument, total, issues
