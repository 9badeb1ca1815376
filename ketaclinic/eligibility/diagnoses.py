"""The diagnosis and allergy rows an evaluation records (``Diagnosis``, ``Allergy``).

An evaluation keeps its input as JSON; each diagnosis and each allergy in it also gets a row of
its own, written in the same transaction as the evaluation and never changed, so that FHIR
(Condition, AllergyIntolerance) and any other reader search rows, not JSON. The data migration
``0002`` writes the same rows for the evaluations saved before, through ``record_fields``.

Severity is the band of the evaluation's baseline score of the instrument the code table ties
to the diagnosis (``rules/data/diagnosis_codes.json``, bands from ``ketaclinic.scales``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ketaclinic.eligibility.baseline_scores import instrument_short_name
from ketaclinic.eligibility.rules.diagnosis_codes import (
    allergy_lines,
    code_table,
    diagnosis_code,
)
from ketaclinic.scales import instruments


@dataclass(frozen=True)
class RecordFields:
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    allergies: list[dict[str, Any]] = field(default_factory=list)


def _severity(instrument_code: str, scores: Mapping[str, Any]) -> tuple[str, str]:
    """(severity label, evidence text) from the baseline score, or blanks."""
    score = scores.get(instrument_code) if instrument_code else None
    if not isinstance(score, int) or isinstance(score, bool):
        return "", ""
    try:
        instrument = instruments.get(instrument_code)
    except instruments.InstrumentUnknown:
        return "", ""
    band = next((b for b in instrument.bands if b.contains(score)), None)
    name = instrument_short_name(instrument)
    if band is None:
        return "", f"{name} baseline {score}"
    evidence = f"{name} baseline {score} ({band.label}; {band.source})"
    label = band.label.lower()
    return (label if label in code_table().severity_codes else ""), evidence[:300]


def record_fields(input_json: Mapping[str, Any]) -> RecordFields:
    """The fields of the rows an evaluation's input records, in its order (without the
    patient, evaluation, source and who and when, which the caller adds)."""
    found = RecordFields()
    scores = input_json.get("baseline_scores") or {}
    if not isinstance(scores, Mapping):
        scores = {}
    seen: set[str] = set()
    for position, raw in enumerate(input_json.get("diagnoses") or []):
        if not isinstance(raw, str) or not raw.strip():
            continue
        code = diagnosis_code(raw)
        if code.icd10 in seen:
            continue
        seen.add(code.icd10)
        severity, evidence = _severity(code.severity_instrument, scores)
        found.diagnoses.append(
            {
                "position": position,
                "icd10": code.icd10,
                "snomed": code.snomed,
                "display": code.title[:300],
                "severity": severity,
                "evidence": evidence,
            }
        )
    if "allergies" in input_json:
        for position, line in enumerate(allergy_lines(input_json.get("allergies"))):
            found.allergies.append(
                {"position": position, "substance": line.substance[:300], "no_known": line.no_known}
            )
    return found
