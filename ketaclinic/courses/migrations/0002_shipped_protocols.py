"""Load the shipped default protocols (the JSON files of ketaclinic.infusions.protocols) as
version 1 of each code. The text is stored exactly as shipped; the clinical columns are
copies of it, taken by the same strict loader that validates every later version."""

from importlib import resources

from django.db import migrations

from ketaclinic.infusions.protocols import DoseBasis, protocol_from_json
from ketaclinic.infusions.protocols.loader import SHIPPED_FILES


def load_shipped(apps, schema_editor):
    Protocol = apps.get_model("courses", "Protocol")
    package = resources.files("ketaclinic.infusions.protocols")
    for name in SHIPPED_FILES:
        text = (package / name).read_text(encoding="utf-8")
        definition = protocol_from_json(text, origin=name)
        if Protocol.objects.filter(code=definition.code).exists():
            continue
        dosing = definition.dosing
        per_kg = dosing.basis is DoseBasis.PER_KG
        Protocol.objects.create(
            code=definition.code,
            version=1,
            name=definition.title[:200],
            definition_json=text,
            medication=definition.medication[:100],
            route=definition.route.value,
            mg_per_kg=dosing.amount.value if per_kg else None,
            fixed_dose_mg=None if per_kg else dosing.amount.value,
            infusion_minutes=dosing.infusion_minutes.value if dosing.infusion_minutes else None,
            max_dose_mg=dosing.max_single_dose_mg.value,
            source=f"shipped default ({name})",
            active=True,
            created_by=None,
        )


def unload_shipped(apps, schema_editor):
    Protocol = apps.get_model("courses", "Protocol")
    Protocol.objects.filter(version=1, created_by=None, source__startswith="shipped default").filter(
        courses__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]

    operations = [migrations.RunPython(load_shipped, unload_shipped)]
