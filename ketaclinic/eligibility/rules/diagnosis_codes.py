"""The diagnosis code table (``rules/data/diagnosis_codes.json``): ICD-10-CM codes with their
titles and, where known, a SNOMED CT concept; and how an allergy list says "none".

Pure: no Django. Read by the evaluation service (a row per diagnosis and allergy), its data
migration and the FHIR Condition and AllergyIntolerance resources."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    icd10: str
    title: str
    snomed: str = ""
    snomed_display: str = ""
    severity_instrument: str = ""


@dataclass(frozen=True, slots=True)
class CodeTable:
    version: str
    source: str
    icd10_system: str
    snomed_system: str
    diagnoses: dict[str, DiagnosisCode]  # by ICD-10-CM code, upper case with its dot
    nka_code: str
    nka_display: str
    nka_texts: frozenset[str]
    severity_codes: dict[str, str]  # band label -> SNOMED CT (condition-severity value set)


def _table(data: dict[str, Any]) -> CodeTable:
    nka = data["no_known_allergy"]
    return CodeTable(
        version=str(data["version"]),
        source=str(data["source"]),
        icd10_system=str(data["icd10_system"]),
        snomed_system=str(data["snomed_system"]),
        diagnoses={
            str(d["icd10"]).upper(): DiagnosisCode(
                icd10=str(d["icd10"]).upper(),
                title=str(d["title"]),
                snomed=str(d.get("snomed", "")),
                snomed_display=str(d.get("snomed_display", "")),
                severity_instrument=str(d.get("severity_instrument", "")),
            )
            for d in data["diagnoses"]
        },
        nka_code=str(nka["snomed"]),
        nka_display=str(nka["display"]),
        nka_texts=frozenset(str(t).lower() for t in nka["texts"]),
        severity_codes={str(k): str(v) for k, v in data["severity_codes"].items()},
    )


@cache
def code_table() -> CodeTable:
    text = (
        resources.files("ketaclinic.eligibility.rules")
        .joinpath("data", "diagnosis_codes.json")
        .read_text("utf-8")
    )
    return _table(json.loads(text))


def diagnosis_code(icd10: str) -> DiagnosisCode:
    """The table's entry for an ICD-10-CM code; a code the table lacks keeps only its code."""
    normalised = icd10.strip().upper()
    return code_table().diagnoses.get(normalised, DiagnosisCode(normalised, normalised))


def allergy_means_none(text: str) -> bool:
    """Whether a line of the allergy list says "no known allergies" (NKA, NKDA, none)."""
    return " ".join(text.lower().replace(".", " ").split()) in code_table().nka_texts


@dataclass(frozen=True, slots=True)
class AllergyLine:
    substance: str  # as typed; empty for "no known allergies"
    no_known: bool


def allergy_lines(allergies: object) -> list[AllergyLine]:
    """An evaluation's ``allergies`` as rows to record. A list with nothing in it, or only
    "none"-lines, is the clinician recording no known allergies (one row); a key that was
    never given (``None``) records nothing: not asked is not the same as none."""
    if not isinstance(allergies, list):
        return []
    named = [str(a).strip() for a in allergies if isinstance(a, str) and a.strip()]
    substances = [a for a in named if not allergy_means_none(a)]
    if not substances:
        return [AllergyLine("", True)]
    return [AllergyLine(a, False) for a in substances]
