"""A row per diagnosis and per allergy of each eligibility evaluation (served as FHIR Condition
and AllergyIntolerance), and the same rows written for the evaluations saved before: the
backfill reads each evaluation's input through ``eligibility.diagnoses.record_fields``, as the
service does when an evaluation is saved."""

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    from ketaclinic.eligibility.diagnoses import record_fields

    evaluation_model = apps.get_model("eligibility", "Evaluation")
    diagnosis_model = apps.get_model("eligibility", "Diagnosis")
    allergy_model = apps.get_model("eligibility", "Allergy")
    for evaluation in evaluation_model.objects.order_by("created_at", "pk").iterator():
        if diagnosis_model.objects.filter(evaluation_id=evaluation.pk).exists():
            continue
        fields = record_fields(evaluation.input_json)
        common = {
            "patient_id": evaluation.patient_id,
            "evaluation_id": evaluation.pk,
            "source": "evaluation",
            "recorded_at": evaluation.created_at,
            "recorded_by_id": evaluation.created_by_id,
        }
        diagnosis_model.objects.bulk_create(
            [diagnosis_model(**common, **f) for f in fields.diagnoses]
        )
        allergy_model.objects.bulk_create([allergy_model(**common, **f) for f in fields.allergies])


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0001_initial"),
        ("patients", "0002_safetyflag_acknowledged_at_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Allergy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("evaluation", "Eligibility evaluation"),
                            ("import", "Imported (FHIR)"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "substance",
                    models.CharField(
                        blank=True, help_text="As the clinician typed it.", max_length=300
                    ),
                ),
                (
                    "no_known",
                    models.BooleanField(default=False, help_text="The clinician recorded none."),
                ),
                ("recorded_at", models.DateTimeField()),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "evaluation",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allergy_rows",
                        to="eligibility.evaluation",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allergies",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["recorded_at", "position", "id"],
                "indexes": [
                    models.Index(fields=["patient", "recorded_at"], name="elig_allergy_patient_at")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("no_known", True), ("substance", "")),
                            models.Q(
                                ("no_known", False), models.Q(("substance", ""), _negated=True)
                            ),
                            _connector="OR",
                        ),
                        name="elig_allergy_substance_or_none",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Diagnosis",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Order in the evaluation."
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("evaluation", "Eligibility evaluation"),
                            ("import", "Imported (FHIR)"),
                        ],
                        max_length=16,
                    ),
                ),
                ("icd10", models.CharField(blank=True, max_length=16, verbose_name="ICD-10-CM")),
                ("snomed", models.CharField(blank=True, max_length=20, verbose_name="SNOMED CT")),
                ("display", models.CharField(max_length=300)),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("encounter-diagnosis", "Encounter diagnosis"),
                            ("problem-list-item", "Problem list item"),
                        ],
                        default="encounter-diagnosis",
                        max_length=24,
                    ),
                ),
                ("clinical_status", models.CharField(blank=True, default="active", max_length=16)),
                ("verification_status", models.CharField(default="confirmed", max_length=20)),
                (
                    "severity",
                    models.CharField(
                        blank=True, help_text="mild, moderate or severe.", max_length=16
                    ),
                ),
                (
                    "evidence",
                    models.CharField(
                        blank=True, help_text="What it rests on, in words.", max_length=300
                    ),
                ),
                ("onset", models.DateTimeField(blank=True, null=True)),
                (
                    "abatement",
                    models.DateTimeField(blank=True, help_text="When it resolved.", null=True),
                ),
                ("recorded_at", models.DateTimeField()),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "evaluation",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="diagnosis_rows",
                        to="eligibility.evaluation",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="diagnoses",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["recorded_at", "position", "id"],
                "indexes": [
                    models.Index(
                        fields=["patient", "recorded_at"], name="elig_diagnosis_patient_at"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("icd10", ""), ("snomed", ""), _negated=True),
                        name="elig_diagnosis_has_code",
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
