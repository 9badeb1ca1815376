"""Cohorts: defined by an administrator (command and service), served as valid R4 Groups."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from fhir.resources.R4B.group import Group

from ketaclinic.courses.models import Course, Protocol
from ketaclinic.fhir.bulk.models import Cohort, Tombstone
from ketaclinic.fhir.resources.group import GROUP_SOURCE
from ketaclinic.fhir.search.engine import LAST_UPDATED
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def test_a_protocol_cohort_holds_every_patient_with_a_course_on_it(clinic: Clinic) -> None:
    protocol = Protocol.objects.filter(active=True).order_by("pk").first()
    assert protocol is not None
    Course.objects.create(patient=clinic.quinn, protocol=protocol, started_by=clinic.users["ada"])
    out = StringIO()
    call_command(
        "cohort", "define", "Protocol", "--by", "dana", "--protocol", protocol.code, stdout=out
    )
    cohort = Cohort.objects.get(pk=out.getvalue().strip())
    rows = GROUP_SOURCE.rows(clinic.users["dana"]).annotate(
        **{LAST_UPDATED: GROUP_SOURCE.last_updated}
    )
    built = GROUP_SOURCE.build(list(rows.filter(pk=cohort.pk)))
    group = Group.model_validate_json(built[0].text)
    assert [m.entity.reference for m in group.member or []] == [f"Patient/{clinic.quinn.pk}"]
    concept = json.loads(built[0].text)["characteristic"][0]["valueCodeableConcept"]
    assert concept["coding"][0]["code"] == protocol.code
    assert not GROUP_SOURCE.rows(clinic.users["ada"]).exists()  # only those who may export


def test_the_command_refuses_non_administrators_and_unknown_patients(clinic: Clinic) -> None:
    with pytest.raises(CommandError):
        call_command("cohort", "define", "X", "--by", "ada", "--patient", str(clinic.pat.pk))
    with pytest.raises(CommandError):
        call_command(
            "cohort",
            "define",
            "X",
            "--by",
            "dana",
            "--patient",
            "4e1b6a55-0000-4000-8000-000000000000",
        )
    out = StringIO()
    call_command(
        "cohort", "define", "List", "--by", "dana", "--patient", str(clinic.pat.pk), stdout=out
    )
    cohort_id = out.getvalue().strip()
    call_command("cohort", "delete", cohort_id, "--by", "dana")
    assert Tombstone.objects.filter(resource_type="Group", resource_id=cohort_id).exists()
