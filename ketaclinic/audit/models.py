from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    """FHIR AuditEvent.action codes."""

    CREATE = "C", "Create"
    READ = "R", "Read/View/Print"
    UPDATE = "U", "Update"
    DELETE = "D", "Delete"
    EXECUTE = "E", "Execute (export, sign, decide)"


class AuditEvent(models.Model):
    """One access to patient data. Append-only; each event carries its predecessor's hash.

    It names who, when, what and from where, never the data itself.
    """

    seq = models.BigIntegerField(unique=True, help_text="Position in the hash chain, from 1.")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # (actor, seq) serves it (Meta.indexes; issue 17)
    )
    actor_role = models.CharField(max_length=16)
    action = models.CharField(max_length=1, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    object_ids = models.TextField(
        blank=True,
        default="",
        db_default="",  # rows written without it (by hand, by other tools) name one record
        help_text="A page of several records of one type read at once (a FHIR search page): "
        "their ids, separated by spaces; object_id is then empty. Hashed when not empty.",
    )
    patient_id = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["patient_id", "seq"]),
            models.Index(fields=["actor", "seq"]),
        ]

    def __str__(self) -> str:
        return f"audit #{self.seq} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")

    @property
    def object_id_list(self) -> list[str]:
        """The ids of the records this event names: its one object_id, or a page's ids."""
        return self.object_ids.split() if self.object_ids else [self.object_id]


class AuditChainHead(models.Model):
    """The last event of the chain. Locked by every writer, so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
