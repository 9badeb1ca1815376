"""The shipped protocols gained a `preparation` block (fasting times, no driving until the next
day, each with its source; the patient portal shows it before each session). A clinic whose
active version of a code is still the unedited shipped one gets the new shipped text as a new
version, exactly as 0003 did for the pre-dose holds; a clinic's own versions are left alone
(its portal says "ask the clinic" until it adds the block itself)."""

import importlib

from django.db import migrations

_SAME_STEP = importlib.import_module(
    "ketaclinic.courses.migrations.0003_shipped_protocols_predose_holds"
)


def add_shipped_versions(apps, schema_editor):
    _SAME_STEP.add_shipped_versions(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("courses", "0004_session_change")]

    operations = [migrations.RunPython(add_shipped_versions, migrations.RunPython.noop)]
