from typing import Any

from django.db import migrations, models


def mark_every_patient(apps: Any, schema_editor: Any) -> None:
    """The rows computed before this column have no baseline time: every treated patient is
    marked, and the next read recomputes their rows (the patient page reads them live until
    then)."""
    dirty = apps.get_model("outcomes", "DirtyPatient")._meta.db_table
    outcome = apps.get_model("outcomes", "CourseOutcome")._meta.db_table
    schema_editor.execute(
        f"INSERT INTO {dirty} (patient_id) SELECT DISTINCT o.patient_id FROM {outcome} o"  # noqa: S608  table names from models
        f" WHERE NOT EXISTS (SELECT 1 FROM {dirty} d WHERE d.patient_id = o.patient_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0004_sessionsafetyrow")]

    operations = [
        migrations.AddField(
            model_name="courseoutcome",
            name="baseline_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="outcomerefresh",
            index=models.Index(fields=["scope", "started_at"], name="outcome_refresh_scope_at"),
        ),
        migrations.RunPython(mark_every_patient, migrations.RunPython.noop),
    ]
