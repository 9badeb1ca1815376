"""The eligibility and consent models now belong to their own apps (issue 11): intake forgets them
in Django's state only. The tables and their rows stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('eligibility', '0001_initial'),
        ('consent', '0001_initial'),
        ('intake', '0005_inquiry_pipeline'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='consentsignature',
                    name='document',
                ),
                migrations.RemoveField(
                    model_name='consentlink',
                    name='documents',
                ),
                migrations.RemoveField(
                    model_name='consentlink',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='consentlink',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='consentsignature',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='consentsignature',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='consentsignature',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='consentsignature',
                    name='witnessed_by',
                ),
                migrations.RemoveField(
                    model_name='eligibilitydecision',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='eligibilitydecision',
                    name='evaluation',
                ),
                migrations.RemoveField(
                    model_name='eligibilitydecision',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='evaluation',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='evaluation',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='evaluation',
                    name='ruleset',
                ),
                migrations.RemoveField(
                    model_name='rulesetversion',
                    name='created_by',
                ),
                migrations.DeleteModel(
                    name='ConsentDocument',
                ),
                migrations.DeleteModel(
                    name='ConsentLink',
                ),
                migrations.DeleteModel(
                    name='ConsentSignature',
                ),
                migrations.DeleteModel(
                    name='EligibilityDecision',
                ),
                migrations.DeleteModel(
                    name='Evaluation',
                ),
                migrations.DeleteModel(
                    name='RuleSetVersion',
                ),
            ],
            database_operations=[],
        ),
    ]
