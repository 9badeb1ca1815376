"""The research export: Safe Harbor or a limited data set, as CSV or FHIR NDJSON, audited.

Only these columns leave: a patient pseudonym, age (group), sex at birth, ZIP3 (or ZIP5 in a
limited data set), the disorder group, and each scored rating scale's measure, date (year only,
or shifted) and total. Names, contact details, MRNs, addresses, answers' free text, device ids
and notes never do. Rows are streamed from the database patient by patient.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.outcomes.models import CourseOutcome, ExportMode, ResearchExport
from ketaclinic.outcomes.rules.deid import (
    age_group,
    age_on,
    birth_year,
    k_anonymity,
    new_shift,
    pseudonym,
    year_only,
    zip3,
    zip_from_address,
)
from ketaclinic.scales.models import Administration

# LOINC codes of the totals (shared/domain/scales.md); other measures export without a code.
LOINC_TOTAL = {"gad7": "70274-6", "phq9": "44261-6"}
AGE_GROUP_URL = "https://ketaclinic.example/fhir/StructureDefinition/age-group"
QUASI_IDENTIFIERS = ("age_group", "sex_at_birth", "zip3")


class ExportRefused(Exception):
    pass


def export_secret() -> bytes:
    """The clinic's pseudonym key: KETACLINIC_EXPORT_SECRET if set, else derived from the
    secret key (so the same patient gets the same pseudonym across exports)."""
    configured = getattr(settings, "OUTCOMES_EXPORT_SECRET", "")
    if configured:
        return str(configured).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"research-export", hashlib.sha256).digest()


@dataclass
class ExportFile:
    record: ResearchExport
    content: str
    content_type: str
    filename: str


def _rows() -> Iterator[tuple[Any, ...]]:
    return (
        Administration.objects.filter(total__isnull=False)
        .order_by("patient_id", "administered_at")
        .values_list(
            "patient_id",
            "patient__birth_date",
            "patient__sex_at_birth",
            "patient__address",
            "instrument",
            "administered_at",
            "total",
        )
        .iterator(chunk_size=5000)
    )


def _disorders() -> dict[Any, str]:
    return dict(CourseOutcome.objects.values_list("patient_id", "disorder").distinct().order_by())


@transaction.atomic
def research_export(
    *, acting_user: Any, mode: str, file_format: str, dua_reference: str = ""
) -> ExportFile:
    require(acting_user, "research.export")
    if mode not in ExportMode.values:
        raise ExportRefused(f"unknown mode {mode!r}")
    if file_format not in ("csv", "ndjson"):
        raise ExportRefused(f"unknown format {file_format!r}")
    limited = mode == ExportMode.LIMITED
    if limited and not dua_reference.strip():
        raise ExportRefused("a limited data set needs the data use agreement's reference")
    record = ResearchExport.objects.create(
        mode=mode,
        file_format=file_format,
        dua_reference=dua_reference.strip()[:200],
        created_by=acting_user,
    )  # the agreement's reference is recorded before anything is exported
    secret = export_secret()
    disorders = _disorders()
    shifts: dict[Any, timedelta] = {}
    qi: list[tuple[str, str, str]] = []
    out = io.StringIO()
    writer = csv.writer(out)
    if file_format == "csv":
        writer.writerow(
            [
                "patient",
                "birth",
                "age_group",
                "sex_at_birth",
                "zip",
                "disorder",
                "measure",
                "date",
                "score",
            ]
        )
    rows = 0
    patients: list[Any] = []
    last_patient: Any = None
    for patient_id, birth, sex, address, measure, at, total in _rows():
        pid = pseudonym(secret, "patient", str(patient_id))
        zip_code = zip_from_address(address)
        day = at.date()
        if patient_id != last_patient:
            last_patient = patient_id
            patients.append(patient_id)
            qi.append((age_group(birth, day), sex, zip3(zip_code)))
            if limited:
                shifts[patient_id] = new_shift()
            if file_format == "ndjson":
                out.write(
                    json.dumps(
                        _fhir_patient(
                            pid, birth, sex, zip_code, day, limited, shifts.get(patient_id)
                        )
                    )
                    + "\n"
                )
        if limited:
            shifted: datetime | date = at + shifts[patient_id]
            when = shifted.isoformat()
            birth_out = (birth + shifts[patient_id]).isoformat()
            age_out = str(age_on(birth, day))
            zip_out = zip_code or ""
        else:
            when = year_only(at)
            birth_out = birth_year(birth, day)
            age_out = age_group(birth, day)
            zip_out = zip3(zip_code)
        disorder = disorders.get(patient_id, "")
        if file_format == "csv":
            writer.writerow([pid, birth_out, age_out, sex, zip_out, disorder, measure, when, total])
        else:
            out.write(json.dumps(_fhir_observation(secret, pid, measure, when, total, at)) + "\n")
        rows += 1
    k = k_anonymity(qi)
    record.patients = len(patients)
    record.rows = rows
    record.k_anonymity = k
    record.notes = (
        f"{ExportMode(mode).label}. {len(patients)} patients, {rows} scores. k-anonymity of the "
        f"quasi-identifiers ({', '.join(QUASI_IDENTIFIERS)}, one row a patient): k = {k}."
        + (f" Data use agreement: {record.dua_reference}." if limited else "")
        + (
            " Dates shifted per patient by one random offset (intervals kept)."
            if limited
            else " Dates reduced to the year; ages over 89 as '90 or older'; ZIP3 or 000."
        )
    )
    record.save(update_fields=["patients", "rows", "k_anonymity", "notes"])
    audit_record(
        actor=acting_user,
        action=Action.EXECUTE,
        object_type="ResearchExport",
        object_id=record.pk,
        patient_id=None,
    )
    audit_record_many(
        actor=acting_user,
        action=Action.READ,
        targets=[AuditTarget("ResearchExport", str(record.pk), p) for p in patients],
    )
    suffix = "csv" if file_format == "csv" else "ndjson"
    return ExportFile(
        record=record,
        content=out.getvalue(),
        content_type="text/csv; charset=utf-8" if suffix == "csv" else "application/fhir+ndjson",
        filename=f"research-export-{record.pk}.{suffix}",
    )


def _fhir_patient(
    pid: str,
    birth: date,
    sex: str,
    zip_code: str | None,
    day: date,
    limited: bool,
    shift: timedelta | None,
) -> dict[str, Any]:
    gender = {"female": "female", "male": "male", "intersex": "other"}.get(sex, "unknown")
    resource: dict[str, Any] = {"resourceType": "Patient", "id": pid[:64], "gender": gender}
    if limited and shift is not None:
        resource["birthDate"] = (birth + shift).isoformat()
        resource["address"] = [{"postalCode": zip_code or ""}]
    else:
        year = birth_year(birth, day)
        if year.isdigit():
            resource["birthDate"] = year
        else:  # over 89: no birth year, one category (Safe Harbor (C))
            resource["extension"] = [{"url": AGE_GROUP_URL, "valueString": year}]
        resource["address"] = [{"postalCode": zip3(zip_code)}]
    return resource


def _fhir_observation(
    secret: bytes, pid: str, measure: str, when: str, total: int, at: datetime
) -> dict[str, Any]:
    coding = [{"system": "https://ketaclinic.example/fhir/measure", "code": measure}]
    if measure in LOINC_TOTAL:
        coding.insert(0, {"system": "http://loinc.org", "code": LOINC_TOTAL[measure]})
    return {
        "resourceType": "Observation",
        "id": pseudonym(secret, "observation", f"{pid}:{measure}:{at.isoformat()}")[:64],
        "status": "final",
        "code": {"coding": coding},
        "subject": {"reference": f"Patient/{pid[:64]}"},
        "effectiveDateTime": when,
        "valueInteger": total,
    }
