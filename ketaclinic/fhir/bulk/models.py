"""Bulk Data exports (FHIR Bulk Data Access IG v2.0.0, with v3's ``_until``), the cohorts an
administrator defines (served as FHIR Group, the unit of ``Group/{id}/$export``), and the
tombstones of deleted resources (the manifest's ``deleted`` for an export with ``_since``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.patients.models import Patient


class CohortKind(models.TextChoices):
    LIST = "list", "A list of patients"
    PROTOCOL = "protocol", "Every patient with a course on a protocol"


class Cohort(models.Model):
    """A group of patients an administrator defines: a list, or every patient with a course
    on a protocol (any version of its code), worked out when it is read or exported."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CohortKind.choices)
    protocol_code = models.CharField(max_length=100, blank=True)
    members = models.ManyToManyField(Patient, through="CohortMember", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"cohort {self.pk} ({self.kind})"


class CohortMember(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "patient"], name="bulk_cohort_member_unique")
        ]

    def __str__(self) -> str:
        return f"member of cohort {self.cohort_id}"


class Tombstone(models.Model):
    """A resource that was deleted: exports with ``_since`` list it under ``deleted``."""

    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["deleted_at"], name="bulk_tombstone_at")]

    def __str__(self) -> str:
        return f"deleted {self.resource_type}/{self.resource_id}"


class ExportKind(models.TextChoices):
    SYSTEM = "system", "[base]/$export"
    PATIENT = "patient", "Patient/$export"
    GROUP = "group", "Group/{id}/$export"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class BulkExport(models.Model):
    """One kick-off and its job. Files are written under a folder named by the id and
    attempt; the manifest is made only from a completed export's ``BulkExportFile`` rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    types_json = models.TextField(help_text="The resource types exported, a JSON list.")
    type_filters_json = models.TextField(
        default="{}", help_text="Resource type -> list of _typeFilter queries (OR-ed)."
    )
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField(help_text="The kick-off request, for the manifest.")
    patient_ids_json = models.TextField(
        blank=True,
        default="",
        help_text="The kick-off's ``patient`` parameter: a JSON list of patient ids (blank: none).",
    )
    elements_json = models.TextField(
        default="{}", help_text="``_elements``: resource type (or *) -> the elements kept."
    )
    grant_scope = models.TextField(
        blank=True,
        default="",
        help_text="A SMART program's granted scopes at kick-off (blank: a person's API token). "
        "The job applies them to every type and row; polls and downloads need the same program.",
    )
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    attempt = models.PositiveIntegerField(default=1)
    progress = models.PositiveBigIntegerField(default=0, help_text="Resources written so far.")
    progress_type = models.CharField(max_length=40, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    transaction_time = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed: a sentence, no patient data.")

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="bulk_export_status")]

    def __str__(self) -> str:
        return f"bulk export {self.pk} ({self.status})"


class FilePart(models.TextChoices):
    OUTPUT = "output", "output"
    DELETED = "deleted", "deleted"
    ERROR = "error", "error"


class BulkExportFile(models.Model):
    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    part = models.CharField(max_length=16, choices=FilePart.choices)
    resource_type = models.CharField(max_length=40)
    name = models.CharField(max_length=100, help_text="The file name in the export's folder.")
    count = models.PositiveBigIntegerField(default=0)
    patient_count = models.PositiveIntegerField(
        default=0, help_text="How many patients' data the file holds (the audit's companion)."
    )
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["export", "name"], name="bulk_export_file_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} of export {self.export_id}"
