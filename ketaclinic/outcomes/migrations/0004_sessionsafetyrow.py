from typing import Any

from django.db import migrations, models


def reinstall(apps: Any, schema_editor: Any) -> None:
    """The change triggers now also watch the sessions' charts (vitals, chart entries, dose
    checks) and the protocol's mg/kg: dropped and installed again (SQLite's ``CREATE TRIGGER IF
    NOT EXISTS`` would keep an old trigger's column list)."""
    from ketaclinic.outcomes.services.upkeep import drop_triggers, install_triggers

    drop_triggers(schema_editor.connection)
    install_triggers(schema_editor.connection)


def mark_every_patient(apps: Any, schema_editor: Any) -> None:
    """The safety rows start empty, so every treated patient's rows are out of date: each is
    marked, and the next read recomputes them (the outcome rows with them)."""
    dirty = apps.get_model("outcomes", "DirtyPatient")._meta.db_table
    course = apps.get_model("courses", "Course")._meta.db_table
    schema_editor.execute(
        f"INSERT INTO {dirty} (patient_id) SELECT DISTINCT c.patient_id FROM {course} c"  # noqa: S608  table names from models
        f" WHERE NOT EXISTS (SELECT 1 FROM {dirty} d WHERE d.patient_id = c.patient_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0003_dirtypatient_refresh_scope"),
        ("infusions", "0005_session_start_and_status_indexes"),
        ("courses", "0005_shipped_protocols_preparation"),
    ]

    operations = [
        migrations.CreateModel(
            name="SessionSafetyRow",
            fields=[
                ("session_id", models.UUIDField(primary_key=True, serialize=False)),
                ("course_id", models.UUIDField(db_index=True)),
                ("patient_id", models.UUIDField(db_index=True)),
                ("weight_based", models.BooleanField()),
                (
                    "mg_per_kg",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True),
                ),
                ("systolic_rise", models.IntegerField(blank=True, null=True)),
                ("diastolic_rise", models.IntegerField(blank=True, null=True)),
                ("cadss", models.IntegerField(blank=True, null=True)),
                ("dissociation_0_4", models.IntegerField(blank=True, null=True)),
                ("planned_minutes", models.IntegerField(blank=True, null=True)),
                ("infused_minutes", models.FloatField(blank=True, null=True)),
                ("side_effects", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(reinstall, reinstall),
        migrations.RunPython(mark_every_patient, migrations.RunPython.noop),
    ]
