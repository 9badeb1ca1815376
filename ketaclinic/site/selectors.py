"""Reads of the public site's pages. They hold no personal data, so reads are not audited."""

from __future__ import annotations

from django.http import Http404

from ketaclinic.site.models import Page


def page_list() -> list[Page]:
    return list(Page.objects.order_by("position", "slug"))


def page_get(slug: str) -> Page:
    """The page with this slug, or Http404."""
    page = Page.objects.select_related("updated_by").filter(slug=slug).first()
    if page is None:
        raise Http404("no such page")
    return page
