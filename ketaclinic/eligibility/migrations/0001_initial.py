"""The eligibility models, moved from the intake app (issue 11). Their tables stay where they are
(``db_table`` = the intake names), so this only tells Django's state; no row moves."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('intake', '0005_inquiry_pipeline'),
        ('patients', '0002_safetyflag_acknowledged_at_and_more'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RuleSetVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('version', models.CharField(max_length=40, unique=True)),
                        ('rules_json', models.JSONField()),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('active', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('created_by', models.ForeignKey(blank=True, help_text='Empty for the shipped default.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'intake_rulesetversion',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Evaluation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('input_json', models.JSONField(help_text='The evaluation as submitted.')),
                        ('proposal_json', models.JSONField(help_text="The engine's proposal, reasons' texts included.")),
                        ('outcome', models.CharField(choices=[('eligible', 'Eligible'), ('needs_review', 'Needs review'), ('not_eligible', 'Not eligible')], max_length=16)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='eligibility_evaluations', to='patients.patient')),
                        ('ruleset', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evaluations', to='eligibility.rulesetversion')),
                    ],
                    options={
                        'db_table': 'intake_evaluation',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='EligibilityDecision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('decision', models.CharField(choices=[('eligible', 'Eligible'), ('not_eligible', 'Not eligible'), ('deferred', 'Deferred')], max_length=16)),
                        ('rationale', models.TextField(blank=True, max_length=2000)),
                        ('decided_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('snapshot', models.JSONField(help_text='What was decided on, as signed.')),
                        ('digest', models.CharField(help_text="SHA-256 of the snapshot's canonical JSON.", max_length=64)),
                        ('decided_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='eligibility_decisions', to='patients.patient')),
                        ('evaluation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='eligibility.evaluation')),
                    ],
                    options={
                        'db_table': 'intake_eligibilitydecision',
                        'ordering': ['-decided_at', '-id'],
                        'indexes': [models.Index(fields=['patient', '-decided_at', '-id'], name='intake_elig_patient_8501f4_idx')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='rulesetversion',
                    constraint=models.UniqueConstraint(condition=models.Q(('active', True)), fields=('active',), name='intake_one_active_ruleset'),
                ),
                migrations.AddIndex(
                    model_name='evaluation',
                    index=models.Index(fields=['patient', '-created_at'], name='intake_eval_patient_45be4c_idx'),
                ),
            ],
            database_operations=[],
        ),
    ]
