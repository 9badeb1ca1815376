"""The last verifications of the two hash chains, for the administrator's Today page."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ChainKind(models.TextChoices):
    AUDIT = "audit", "Audit trail"
    LEDGER = "ledger", "Ketamine ledger"


class ChainCheck(models.Model):
    """One run of ``audit verify`` or ``ledger verify``: when, by whom, and what it found."""

    kind = models.CharField(max_length=16, choices=ChainKind.choices)
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    problem = models.TextField(max_length=2000, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["kind", "-checked_at"])]

    def __str__(self) -> str:
        outcome = "ok" if self.ok else "FAILED"
        return f"{self.kind} check at {self.checked_at:%Y-%m-%d %H:%M}: {outcome}"
