from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fhir_bulk", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkexport",
            name="patient_ids_json",
            field=models.TextField(
                blank=True,
                default="",
                help_text="The kick-off's ``patient`` parameter: a JSON list of patient ids "
                "(blank: none).",
            ),
        ),
        migrations.AddField(
            model_name="bulkexport",
            name="elements_json",
            field=models.TextField(
                default="{}",
                help_text="``_elements``: resource type (or *) -> the elements kept.",
            ),
        ),
        migrations.AddField(
            model_name="bulkexport",
            name="grant_scope",
            field=models.TextField(
                blank=True,
                default="",
                help_text="A SMART program's granted scopes at kick-off (blank: a person's API "
                "token). The job applies them to every type and row; polls and downloads need "
                "the same program.",
            ),
        ),
    ]
