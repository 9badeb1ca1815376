"""Load the shipped eligibility rule set and consent documents (each as version 1, active)."""

import datetime
import json
from importlib import resources

from django.db import migrations

from ketaclinic.lib.hashchain import digest

# (code, file): the first line of each file is the document's title, the rest its text.
CONSENT_FILES = (
    ("ketamine_treatment", "ketamine_treatment.txt"),
    ("data_recording", "data_recording.txt"),
)
EFFECTIVE_FROM = datetime.date(2026, 1, 1)


def load_shipped(apps, schema_editor):
    RuleSetVersion = apps.get_model("intake", "RuleSetVersion")
    ConsentDocument = apps.get_model("intake", "ConsentDocument")
    # The files moved with the eligibility and consent apps (issue 11); their content did not.
    rules_file = resources.files("ketaclinic.eligibility.rules") / "data" / "default_rules.json"
    rules = json.loads(rules_file.read_text("utf-8"))
    texts = resources.files("ketaclinic.consent") / "texts"
    if not RuleSetVersion.objects.filter(version=rules["version"]).exists():
        RuleSetVersion.objects.create(
            version=rules["version"],
            rules_json=rules,
            note="shipped default (ketaclinic/eligibility/rules/data/default_rules.json)",
            active=not RuleSetVersion.objects.filter(active=True).exists(),
        )
    for code, filename in CONSENT_FILES:
        if ConsentDocument.objects.filter(code=code).exists():
            continue
        text = (texts / filename).read_text("utf-8").strip()
        title, _, body = text.partition("\n")
        title, body = title.strip(), body.strip()
        ConsentDocument.objects.create(
            code=code,
            version=1,
            title=title,
            body=body,
            effective_from=EFFECTIVE_FROM,
            active=True,
            required=True,
            # as consent_services.consent_document_digest computes it
            digest=digest(
                {
                    "code": code,
                    "version": 1,
                    "title": title,
                    "body": body,
                    "effective_from": EFFECTIVE_FROM.isoformat(),
                }
            ),
        )


def unload_shipped(apps, schema_editor):
    RuleSetVersion = apps.get_model("intake", "RuleSetVersion")
    ConsentDocument = apps.get_model("intake", "ConsentDocument")
    RuleSetVersion.objects.filter(created_by=None, evaluations__isnull=True).delete()
    ConsentDocument.objects.filter(version=1, signatures__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_eligibility_consent")]

    operations = [migrations.RunPython(load_shipped, unload_shipped)]
