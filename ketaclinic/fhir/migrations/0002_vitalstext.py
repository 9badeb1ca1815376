"""The store of validated vital-sign Observation texts (``fhir.VitalsText``), issue 16.

Its foreign key to the reading is the database's own, ``ON DELETE CASCADE``: a reading deleted
by any means (the ORM, ``QuerySet.delete()``, raw SQL) takes its texts with it. On SQLite the
ORM's cascade does it (the store is filled only on PostgreSQL: ``fhir/search/fast.py``)."""

import django.db.models.deletion
from django.db import migrations, models

_CONSTRAINT = "fhir_vitalstext_reading_cascade"


def _cascade(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE fhir_vitalstext ADD CONSTRAINT {_CONSTRAINT} FOREIGN KEY (reading_id) "
        "REFERENCES infusions_vitalsreading (id) ON DELETE CASCADE"
    )


def _uncascade(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE fhir_vitalstext DROP CONSTRAINT {_CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [
        ("fhir", "0001_initial"),
        ("infusions", "0005_session_start_and_status_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="VitalsText",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("measure", models.CharField(help_text="bp, hr, spo2 or rr.", max_length=8)),
                ("stamp", models.CharField(max_length=32)),
                ("json_text", models.TextField(help_text="The Observation's JSON (no meta), validated with R4B.")),
                (
                    "reading",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="infusions.vitalsreading",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("reading", "measure"), name="fhir_vitals_text_unique")
                ],
            },
        ),
        migrations.RunPython(_cascade, _uncascade),
    ]
