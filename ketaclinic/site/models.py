from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Page(models.Model):
    """A page of the public site, written in Markdown by an administrator."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(
        max_length=300, blank=True, help_text="One sentence for the list on the home page."
    )
    body = models.TextField(max_length=50_000, help_text="Markdown. HTML is cleaned on display.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the home page.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.title
