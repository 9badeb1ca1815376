"""A clinic that loaded the shipped protocols before the pre-dose holds covered heart rate,
SpO2 and respiratory rate (and before the 0-4 dissociation rating and the REMS timepoint were
protocol data) gets the shipped text as a new version of each code whose active version is
still the unedited shipped one. Protocols are never edited: the old version stays for the
courses started on it; a clinic's own edited versions are left alone."""

from importlib import resources

from django.db import migrations

from ketaclinic.infusions.protocols import DoseBasis, protocol_from_json
from ketaclinic.infusions.protocols.loader import SHIPPED_FILES


def add_shipped_versions(apps, schema_editor):
    Protocol = apps.get_model("courses", "Protocol")
    package = resources.files("ketaclinic.infusions.protocols")
    for name in SHIPPED_FILES:
        text = (package / name).read_text(encoding="utf-8")
        definition = protocol_from_json(text, origin=name)
        active = Protocol.objects.filter(code=definition.code, active=True).first()
        if active is None or active.definition_json == text:
            continue
        if active.created_by_id is not None or not active.source.startswith("shipped default"):
            continue  # the clinic's own version: theirs to change
        active.active = False
        active.save(update_fields=["active"])
        dosing = definition.dosing
        per_kg = dosing.basis is DoseBasis.PER_KG
        Protocol.objects.create(
            code=definition.code,
            version=active.version + 1,
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


class Migration(migrations.Migration):
    dependencies = [("courses", "0002_shipped_protocols")]

    operations = [migrations.RunPython(add_shipped_versions, migrations.RunPython.noop)]
