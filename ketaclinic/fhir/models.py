"""FHIR resources as we served or received them: canonical JSON beside the fields we search on.

A search Bundle is built by splicing ``json_text`` of the matching rows (one query), never by
re-serialising each resource (PERFORMANCE.md: that alone costs ~40x on search).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient
from ketaclinic.scales.models import Administration


class StoredResource(models.Model):
    """One FHIR resource: an imported Questionnaire, a QuestionnaireResponse, an Observation."""

    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64, help_text="The FHIR id (server-assigned).")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code_system = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=100, blank=True, help_text="The code searched by code=.")
    effective = models.DateTimeField(null=True, blank=True)
    # Questionnaires only: the canonical URL and name searched by url= and name=, and the
    # built-in instrument a definition is linked to.
    url = models.CharField(max_length=500, blank=True)
    name = models.CharField(max_length=200, blank=True)
    instrument = models.CharField(max_length=40, blank=True)
    json_text = models.TextField(help_text="The resource's canonical JSON, validated with R4B.")
    administration = models.ForeignKey(
        Administration, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id"], name="fhir_stored_type_id_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "resource_type", "code", "effective"],
                name="fhir_stored_patient_code_at",
            ),
            models.Index(fields=["resource_type", "url"], name="fhir_stored_type_url"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"


class VitalsText(models.Model):
    """The validated JSON text of one vital-sign Observation (a reading's measure), kept so that
    a search splices it instead of building and validating it again (PERFORMANCE.md).

    It cannot be served stale: ``stamp`` is an MD5 of the builder's code and of the reading's
    whole row and its patient (``fhir/search/fast.py``, computed by PostgreSQL in the search
    statement itself), and a text is used only when its stamp equals the one computed from the
    row as it is now. Any change to the reading (``save()``, ``QuerySet.update()``, raw SQL) or
    to the builder's code changes the stamp; the text is then built, validated and stored again.
    Deleting the reading deletes its texts (``ON DELETE CASCADE`` in the database, so raw SQL
    deletes too; migration 0002)."""

    reading = models.ForeignKey(
        "infusions.VitalsReading",
        on_delete=models.CASCADE,
        db_constraint=False,  # the database's own constraint, ON DELETE CASCADE: migration 0002
        related_name="+",
    )
    measure = models.CharField(max_length=8, help_text="bp, hr, spo2 or rr.")
    stamp = models.CharField(max_length=32)
    json_text = models.TextField(help_text="The Observation's JSON (no meta), validated with R4B.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reading", "measure"], name="fhir_vitals_text_unique"),
        ]

    def __str__(self) -> str:
        return f"vitals-{self.reading_id}-{self.measure}"
