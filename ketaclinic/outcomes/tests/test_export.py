"""The research export: a canary patient's identifiers never appear in Safe Harbor output, no
full date and no age over 89 does; the limited data set keeps each patient's intervals; the
k-anonymity in the notes equals pycanon's; every export is audited."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.outcomes.export import ExportRefused, research_export
from ketaclinic.outcomes.rules.deid import age_group, k_anonymity, zip3, zip_from_address
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tests.cohort import Spec, build_cohort
from ketaclinic.patients.models import Patient
from ketaclinic.testing import Clinic

CANARY = {
    "given_name": "Zebulon",
    "family_name": "Canarywing",
    "email": "zebulon.canarywing@example.org",
    "phone": "+1 603 555 0199",
    "address": "17 Canary Lane\nHanover, NH 03601",
    "emergency_contact": "Canarywing Senior, +1 603 555 0142",
    "referring_provider": "Dr Canaryfeather",
    "birth_date": date(1931, 7, 14),
}


@pytest.fixture
def cohort(clinic: Clinic) -> tuple[Clinic, Patient]:
    courses = build_cohort(
        [Spec("F41.1", 16, (14, 12, 8, 6), follow_up=5)] * 3
        + [Spec("F40.10", 12, (11, 10, 9))] * 2,
        clinician=clinic.users["ada"],
    )
    canary = courses[0].patient
    Patient.objects.filter(pk=canary.pk).update(**CANARY)
    canary.refresh_from_db()
    outcomes_refresh(acting_user=None)
    return clinic, canary


def _identifiers(patient: Patient) -> list[str]:
    return [
        patient.given_name, patient.family_name, patient.mrn, patient.email, patient.phone,
        "Canary Lane", "Hanover", "03601", "Canarywing", "Canaryfeather", "555 01",
        str(patient.pk), patient.pk.hex, "1931-07-14", "1931",
    ]  # fmt: skip


@pytest.mark.parametrize("file_format", ["csv", "ndjson"])
def test_safe_harbor_holds_none_of_the_canarys_identifiers(
    cohort: tuple[Clinic, Patient], file_format: str
) -> None:
    clinic, canary = cohort
    exported = research_export(
        acting_user=clinic.users["dana"], mode="safe_harbor", file_format=file_format
    )
    text = exported.content
    assert text.strip()
    for identifier in _identifiers(canary):
        assert identifier.lower() not in text.lower(), identifier
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a full date in Safe Harbor output"
    assert "90 or older" in text  # the canary was born in 1931
    if file_format == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        ages = [r["age_group"] for r in rows]
        assert all(a == "90 or older" or int(a) <= 89 for a in ages)
        assert {r["zip"] for r in rows} <= {"000"}  # 036 is a restricted ZIP3; others none
        assert all(re.fullmatch(r"\d{4}", r["date"]) for r in rows)
    else:
        resources = [json.loads(line) for line in text.splitlines()]
        kinds = {r["resourceType"] for r in resources}
        assert kinds == {"Patient", "Observation"}
        assert all(len(r.get("effectiveDateTime", "2026")) == 4 for r in resources)


def test_limited_data_set_keeps_each_patients_intervals(cohort: tuple[Clinic, Patient]) -> None:
    clinic, canary = cohort
    exported = research_export(
        acting_user=clinic.users["dana"], mode="limited", file_format="csv",
        dua_reference="DUA-2026-014",
    )  # fmt: skip
    assert exported.record.dua_reference == "DUA-2026-014"
    assert "DUA-2026-014" in exported.record.notes
    rows = list(csv.DictReader(io.StringIO(exported.content)))
    by_patient: dict[str, list[datetime]] = {}
    for row in rows:
        by_patient.setdefault(row["patient"], []).append(datetime.fromisoformat(row["date"]))
    from ketaclinic.scales.models import Administration

    for patient_id in Patient.objects.filter(administrations__isnull=False).distinct():
        original = sorted(
            Administration.objects.filter(patient=patient_id).values_list(
                "administered_at", flat=True
            )
        )
        shifted = None
        for key, dates in by_patient.items():
            if len(dates) == len(original) and [b - a for a, b in pairwise(dates)] == [
                b - a for a, b in pairwise(original)
            ]:
                shifted = key
        assert shifted is not None
    assert canary.given_name not in exported.content and canary.mrn not in exported.content


def test_limited_data_set_needs_an_agreement(cohort: tuple[Clinic, Patient]) -> None:
    clinic, _ = cohort
    with pytest.raises(ExportRefused):
        research_export(acting_user=clinic.users["dana"], mode="limited", file_format="csv")


def test_export_is_audited_and_admin_only(cohort: tuple[Clinic, Patient]) -> None:
    clinic, canary = cohort
    exported = research_export(
        acting_user=clinic.users["dana"], mode="safe_harbor", file_format="csv"
    )
    assert AuditEvent.objects.filter(object_type="ResearchExport", patient_id=canary.pk).exists()
    assert exported.record.patients == 5
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        research_export(acting_user=clinic.users["ada"], mode="safe_harbor", file_format="csv")


def test_k_anonymity_in_the_notes_equals_pycanon(cohort: tuple[Clinic, Patient]) -> None:
    clinic, _ = cohort
    exported = research_export(
        acting_user=clinic.users["dana"], mode="safe_harbor", file_format="csv"
    )
    k = exported.record.k_anonymity
    assert f"k = {k}" in exported.record.notes
    anonymity = pytest.importorskip(
        "pycanon.anonymity",
        reason="pycanon is not installed: `make .venv/.installed` adds it without its exact pins "
        "(numpy 2.0.2, pandas 2.3.3, typing_extensions 4.15), which ours exclude",
    )
    import pandas as pd

    rows = list(csv.DictReader(io.StringIO(exported.content)))
    first: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        first.setdefault(row["patient"], (row["age_group"], row["sex_at_birth"], row["zip"]))
    frame = pd.DataFrame(list(first.values()), columns=["age_group", "sex_at_birth", "zip3"])
    assert anonymity.k_anonymity(frame, ["age_group", "sex_at_birth", "zip3"]) == k


@pytest.mark.parametrize(
    ("birth", "day", "expected"),
    [
        (date(1936, 5, 2), date(2026, 5, 1), "89"),
        (date(1936, 5, 2), date(2026, 5, 2), "90 or older"),
        (date(1990, 1, 1), date(2026, 1, 1), "36"),
    ],
)
def test_age_groups(birth: date, day: date, expected: str) -> None:
    assert age_group(birth, day) == expected


def test_restricted_zip3_list_is_hhss_2000_census_list() -> None:
    """The 17 three-digit ZIP areas of 20,000 people or fewer (HHS 2012 guidance, 2000 Census),
    each one reduced to 000, and the file says where the list comes from."""
    import json
    from importlib import resources

    data = json.loads(
        resources.files("ketaclinic.outcomes.rules")
        .joinpath("data/restricted-zip3-v1.json")
        .read_text("utf-8")
    )
    hhs = [
        "036",
        "059",
        "063",
        "102",
        "203",
        "556",
        "692",
        "790",
        "821",
        "823",
        "830",
        "831",
        "878",
        "879",
        "884",
        "890",
        "893",
    ]
    assert data["zip3"] == hhs
    assert "2000 Census" in data["source"] and "164.514(b)(2)(i)(B)" in data["source"]
    assert "[U" not in data["source"]
    for prefix in hhs:
        assert zip3(f"{prefix}42") == "000"
    assert zip3("03755") == "037"


def test_zip3_and_k() -> None:
    assert zip_from_address("1 Main St\nHanover NH 03755-1234") == "03755"
    assert zip3("03755") == "037"
    assert zip3("03601") == "000"  # 036: 20,000 people or fewer
    assert zip3(None) == "000"
    assert k_anonymity([("30", "f", "037"), ("30", "f", "037"), ("41", "m", "000")]) == 1
    assert k_anonymity([]) == 0
    assert datetime(2026, 1, 1, tzinfo=UTC).year == 2026
