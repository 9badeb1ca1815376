from typing import Any

from django.db import migrations, models


def install(apps: Any, schema_editor: Any) -> None:
    """The change triggers (also reinstalled after every migrate: services/upkeep.py)."""
    from ketaclinic.outcomes.services.upkeep import install_triggers

    install_triggers(schema_editor.connection)


def drop(apps: Any, schema_editor: Any) -> None:
    from ketaclinic.outcomes.services.upkeep import drop_triggers

    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_derived_rows_without_constraints"),
        # the watched tables, at least as they were when the triggers were written
        ("courses", "0005_shipped_protocols_preparation"),
        ("infusions", "0005_session_start_and_status_indexes"),
        ("scales", "0003_incompleteresponse"),
        ("eligibility", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DirtyPatient",
            fields=[("patient_id", models.UUIDField(primary_key=True, serialize=False))],
        ),
        migrations.AddField(
            model_name="outcomerefresh",
            name="scope",
            field=models.CharField(
                choices=[
                    ("full", "Every course"),
                    ("changed", "The courses of patients whose rows changed"),
                ],
                default="full",
                max_length=8,
            ),
        ),
        migrations.RunPython(install, drop),
    ]
