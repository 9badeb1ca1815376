"""A compiled read gives what its queryset gives, for each call's values, in one query, and is
compiled once per database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, models
from django.db.models import Count, F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _flags(patient: Any, since: Any) -> models.QuerySet[SafetyFlag]:
    return (
        SafetyFlag.objects.filter(patient_id=patient, opened_at__gte=since)
        .select_related("patient", "acknowledged_by")
        .annotate(doubled=F("pk") * 2)
        .order_by("opened_at", "pk")
    )


def _open_flags(clinic: Clinic) -> None:
    now = timezone.now()
    ben = clinic.users["ben"]
    for n, patient in enumerate([clinic.pat, clinic.pat, clinic.quinn]):
        SafetyFlag.objects.create(
            patient=patient,
            code=f"c{n}",
            title=f"Flag {n}",
            opened_at=now - timedelta(days=n),
            status=FlagStatus.ACKNOWLEDGED if n == 1 else FlagStatus.ACTIVE,
            acknowledged_by=ben if n == 1 else None,
            acknowledged_at=now if n == 1 else None,
        )


def test_model_rows_match_the_querysets_with_related_rows_and_annotations(clinic: Clinic) -> None:
    _open_flags(clinic)
    built: list[int] = []

    def build() -> models.QuerySet[SafetyFlag]:
        built.append(1)
        return _flags(Slot("patient", models.UUIDField()), Slot("since", models.DateTimeField()))

    read = CompiledRead(build)
    since = timezone.now() - timedelta(days=30)
    for patient in (clinic.pat, clinic.quinn):
        expected = list(_flags(patient.pk, since))
        with CaptureQueriesContext(connection) as captured:
            found = read.objects(patient=patient.pk, since=since)
        assert len(captured.captured_queries) == 1  # no query for the related rows either
        assert [f.pk for f in found] == [f.pk for f in expected] and found
        for got, want in zip(found, expected, strict=True):
            assert got.__dict__.keys() == want.__dict__.keys()
            seen = (got.title, got.opened_at, got.status)
            assert seen == (want.title, want.opened_at, want.status)
            assert got.doubled == want.doubled == got.pk * 2  # type: ignore[attr-defined]
            assert got.patient == want.patient and got.patient.family_name
            assert got.acknowledged_by == want.acknowledged_by
            assert not got._state.adding
    assert read.objects(patient=clinic.pat.pk, since=timezone.now() + timedelta(days=1)) == []
    assert built == [1]  # compiled once, run four times


def test_values_rows_are_converted_as_djangos(clinic: Clinic) -> None:
    _open_flags(clinic)
    shape = (
        Patient.objects.filter(pk=Slot("patient", models.UUIDField()))
        .annotate(open=Count("flags", filter=Q(flags__status=FlagStatus.ACTIVE)))
        .order_by()
        .values("pk", "birth_date", "open")
    )
    read = CompiledRead(lambda: shape)
    want = list(
        Patient.objects.filter(pk=clinic.pat.pk)
        .annotate(open=Count("flags", filter=Q(flags__status=FlagStatus.ACTIVE)))
        .order_by()
        .values("pk", "birth_date", "open")
    )
    assert read.dicts(patient=clinic.pat.pk) == want
    assert want[0]["pk"] == clinic.pat.pk and want[0]["open"] == 1
    assert read.dicts(patient=clinic.quinn.pk)[0]["open"] == 1
    assert "%s" in read.sql()


def test_only_model_rows_or_values_dicts_are_compiled() -> None:
    read = CompiledRead(lambda: Patient.objects.values_list("pk"))
    with pytest.raises(TypeError):
        read.dicts()


def test_a_slot_given_none_is_refused_not_answered_differently(clinic: Clinic) -> None:
    """Django writes IS NULL for None; the kept SQL would match nothing: refused."""
    read = CompiledRead(lambda: Patient.objects.filter(pk=Slot("patient", models.UUIDField())))
    assert [p.pk for p in read.objects(patient=clinic.pat.pk)] == [clinic.pat.pk]
    with pytest.raises(ValueError, match="cannot hold None"):
        read.objects(patient=None)
