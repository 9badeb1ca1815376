"""The consent models, moved from the intake app (issue 11). Their tables stay where they are
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
                    name='ConsentDocument',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=40)),
                        ('version', models.PositiveIntegerField()),
                        ('title', models.CharField(max_length=200)),
                        ('body', models.TextField(max_length=50000)),
                        ('effective_from', models.DateField()),
                        ('active', models.BooleanField(default=True)),
                        ('required', models.BooleanField(default=True, help_text='A course may start only when the patient signed this version.')),
                        ('digest', models.CharField(help_text="SHA-256 of the version's text.", max_length=64)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ],
                    options={
                        'db_table': 'intake_consentdocument',
                        'ordering': ['code', '-version'],
                        'constraints': [models.UniqueConstraint(fields=('code', 'version'), name='intake_consentdoc_version'), models.UniqueConstraint(condition=models.Q(('active', True)), fields=('code',), name='intake_consentdoc_one_active')],
                    },
                ),
                migrations.CreateModel(
                    name='ConsentLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_hash', models.CharField(max_length=64, unique=True)),
                        ('expires_at', models.DateTimeField()),
                        ('used_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('documents', models.ManyToManyField(related_name='+', to='consent.consentdocument')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_links', to='patients.patient')),
                    ],
                    options={
                        'db_table': 'intake_consentlink',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ConsentSignature',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('document_digest', models.CharField(max_length=64)),
                        ('signed_name', models.CharField(max_length=200)),
                        ('signature_image', models.TextField(blank=True, help_text='The drawn signature, a PNG data URL; empty when witnessed.')),
                        ('method', models.CharField(choices=[('tablet', "Signed on the clinic's tablet"), ('link', 'Signed through a single-use link'), ('witnessed', 'Signed in person, witnessed by staff')], max_length=12)),
                        ('signed_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('digest', models.CharField(help_text="SHA-256 of the signature's snapshot.", max_length=64)),
                        ('document', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signatures', to='consent.consentdocument')),
                        ('link', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='signatures', to='consent.consentlink')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_signatures', to='patients.patient')),
                        ('recorded_by', models.ForeignKey(help_text='The staff member who recorded it, opened the tablet or made the link.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('witnessed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'intake_consentsignature',
                        'ordering': ['-signed_at', '-id'],
                        'indexes': [models.Index(fields=['patient', 'document'], name='intake_cons_patient_933ef2_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
