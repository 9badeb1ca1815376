from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0002_derived_rows_without_constraints"),
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
    ]
