"""An existing clinic's database migrates forward through the layout change (issue 11) with every
row intact.

The eligibility and consent models moved from the intake app into apps of their own, keeping their
tables (``db_table``), so the migrations that move them change Django's state only. This test
builds the database as the migrations on main left it before the move (intake at 0005, no
eligibility or consent app), fills it through the historical models with a patient, an inquiry and
its contact attempt, an evaluation with its signed decision, a signed consent and a booked
session, migrates it to the current layout and reads every row back through today's models. It
runs on whichever database the suite runs on (CI: SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.courses.models import Course
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation, RuleSetVersion
from ketaclinic.infusions.models import Session
from ketaclinic.intake.models import ContactAttempt, Inquiry
from ketaclinic.patients.models import Patient

# The layout before issue 11: the moved models were intake's, up to this migration; the apps
# that took them did not exist.
BEFORE_THE_MOVE = [("intake", "0005_inquiry_pipeline"), ("eligibility", None), ("consent", None)]
AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _latest(executor: MigrationExecutor) -> list[tuple[str, str]]:
    leaves: list[tuple[str, str]] = executor.loader.graph.leaf_nodes()
    return leaves


def _model(apps: Apps, app_label: str, name: str) -> Any:
    """A historical model (typed Any: its fields are those of that state, not of today's)."""
    return apps.get_model(app_label, name)


@pytest.fixture
def old_layout(transactional_db: Any) -> Iterator[Apps]:
    """The database migrated back to the layout before the move; the historical models of that
    state. Afterwards the database is migrated to the newest state again, whatever happened."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    executor.loader.build_graph()
    # The state of what is applied now: migrating the moved apps back also unapplied every later
    # migration that depends on them (e.g. outcomes 0003, whose triggers read eligibility).
    graph = executor.loader.graph
    before = sorted(n for n in executor.loader.applied_migrations or {} if n in graph.nodes)
    try:
        yield executor.loader.project_state(before, at_end=True).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(_latest(executor))


def _shipped_rows(apps: Apps) -> None:
    """The rows the data migrations load (the rule set, consent documents, protocols), again:
    a test that flushed the database before this one removed them."""
    for module in (
        "ketaclinic.intake.migrations.0003_shipped_rules_and_consent",
        "ketaclinic.courses.migrations.0002_shipped_protocols",
    ):
        importlib.import_module(module).load_shipped(apps, None)


def _fill(apps: Apps) -> dict[str, Any]:
    """One of every moved kind of row, written through the models as they were before the move."""
    assert "eligibility" not in {c.label for c in apps.get_app_configs()}
    _shipped_rows(apps)
    User = _model(apps, "accounts", "User")
    ada = User.objects.create(username="ada-old", password="!", role="clinician")
    ben = User.objects.create(username="ben-old", password="!", role="nurse")
    patient = _model(apps, "patients", "Patient").objects.create(
        mrn="MRN-OLD-1",
        given_name="Synthetic",
        family_name="Migrant",
        birth_date=dt.date(1980, 5, 17),
        sex_at_birth="female",
    )
    inquiry = _model(apps, "intake", "Inquiry").objects.create(
        name="Synthetic Migrant", email="migrant@example.org", patient=patient
    )
    attempt = _model(apps, "intake", "ContactAttempt").objects.create(
        inquiry=inquiry, by=ada, method="phone", outcome="reached", note="called back"
    )
    ruleset = _model(apps, "intake", "RuleSetVersion").objects.get(active=True)
    evaluation = _model(apps, "intake", "Evaluation").objects.create(
        patient=patient,
        input_json={"diagnoses": ["F41.1"], "baseline_scores": {"gad7": 15}},
        proposal_json={"outcome": "eligible", "reasons": []},
        outcome="eligible",
        ruleset=ruleset,
        created_by=ada,
    )
    decision = _model(apps, "intake", "EligibilityDecision").objects.create(
        evaluation=evaluation,
        patient=patient,
        decision="eligible",
        decided_by=ada,
        snapshot={"evaluation": evaluation.pk},
        digest="d" * 64,
    )
    document = _model(apps, "intake", "ConsentDocument").objects.filter(active=True).first()
    assert document is not None
    signature = _model(apps, "intake", "ConsentSignature").objects.create(
        patient=patient,
        document=document,
        document_digest=document.digest,
        signed_name="Synthetic Migrant",
        method="witnessed",
        witnessed_by=ben,
        recorded_by=ben,
        digest="e" * 64,
    )
    protocol = _model(apps, "courses", "Protocol").objects.filter(active=True).first()
    assert protocol is not None, "the shipped protocols are loaded by courses' migrations"
    course = _model(apps, "courses", "Course").objects.create(
        patient=patient, protocol=protocol, started_by=ada
    )
    chair = _model(apps, "courses", "Chair").objects.create(name="Chair M")
    session = _model(apps, "infusions", "Session").objects.create(
        course=course,
        chair=chair,
        phase="induction",
        start=AT,
        chair_until=AT + dt.timedelta(hours=2),
        created_by=ben,
    )
    return {
        "patient": patient.pk,
        "inquiry": inquiry.pk,
        "attempt": attempt.pk,
        "ruleset": ruleset.pk,
        "evaluation": evaluation.pk,
        "decision": decision.pk,
        "document": document.pk,
        "signature": signature.pk,
        "course": course.pk,
        "session": session.pk,
    }


def test_an_existing_database_migrates_to_the_new_layout_with_every_row(
    old_layout: Apps,
) -> None:
    ids = _fill(old_layout)

    executor = MigrationExecutor(connection)
    executor.migrate(_latest(executor))

    patient = Patient.objects.get(pk=ids["patient"])
    assert (patient.mrn, patient.family_name) == ("MRN-OLD-1", "Migrant")
    inquiry = Inquiry.objects.get(pk=ids["inquiry"])
    assert (inquiry.name, inquiry.patient_id) == ("Synthetic Migrant", patient.pk)
    attempt = ContactAttempt.objects.get(pk=ids["attempt"])
    assert (attempt.inquiry_id, attempt.note, attempt.by.username) == (
        inquiry.pk,
        "called back",
        "ada-old",
    )
    evaluation = Evaluation.objects.get(pk=ids["evaluation"])
    assert evaluation.patient_id == patient.pk
    assert evaluation.input_json == {"diagnoses": ["F41.1"], "baseline_scores": {"gad7": 15}}
    assert evaluation.ruleset_id == ids["ruleset"]
    # eligibility 0002 gave the evaluation's diagnosis a row of its own (issue 16), with the
    # GAD-7 15 severity band; no allergy list was given, so no allergy row.
    (diagnosis,) = evaluation.diagnosis_rows.all()
    assert (diagnosis.icd10, diagnosis.snomed, diagnosis.severity) == (
        "F41.1",
        "21897009",
        "severe",
    )
    assert diagnosis.recorded_at == evaluation.created_at
    assert not evaluation.allergy_rows.exists()
    assert RuleSetVersion.objects.get(pk=ids["ruleset"]).active
    decision = EligibilityDecision.objects.get(pk=ids["decision"])
    assert (decision.evaluation_id, decision.decision, decision.digest) == (
        evaluation.pk,
        "eligible",
        "d" * 64,
    )
    assert list(patient.eligibility_decisions.all()) == [decision]
    signature = ConsentSignature.objects.select_related("document").get(pk=ids["signature"])
    assert signature.document_id == ids["document"]
    assert signature.document_digest == ConsentDocument.objects.get(pk=ids["document"]).digest
    assert signature.witnessed_by is not None
    assert (signature.witnessed_by.username, signature.digest) == ("ben-old", "e" * 64)
    session = Session.objects.select_related("course").get(pk=ids["session"])
    assert session.course == Course.objects.get(pk=ids["course"])
    assert session.start == AT
    assert session.course.patient_id == patient.pk
    # The moved models still read and write the same tables.
    assert Evaluation._meta.db_table == "intake_evaluation"
    assert ConsentSignature._meta.db_table == "intake_consentsignature"
    assert timezone.is_aware(decision.decided_at)
