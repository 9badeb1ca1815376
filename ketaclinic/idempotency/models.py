"""One row per ``Idempotency-Key`` a user sent with a write of the JSON API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A write the API executed once under a key, and the answer it gave.

    While the write runs, the row exists only inside the write's own transaction (``status``
    0); it is committed together with what the write stored, with the answer filled in, or
    not at all. The unique constraint is what makes a concurrent retry wait (PostgreSQL: its
    insert blocks on the uncommitted row; SQLite: its transaction waits for the write lock)
    and then find the answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    """SHA-256 (hex) of the method, the path with its query and the body."""
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_row_per_user_key")
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="idempotency_user_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
