from django.db import migrations, models


class Migration(migrations.Migration):
    """A page of reads as one event (issue 16): the ids of the records shown."""

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="object_ids",
            field=models.TextField(
                blank=True,
                default="",
                db_default="",
                help_text="A page of several records of one type read at once (a FHIR search "
                "page): their ids, separated by spaces; object_id is then empty. Hashed when "
                "not empty.",
            ),
        ),
    ]
