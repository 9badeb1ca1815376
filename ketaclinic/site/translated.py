"""The public pages in the visitor's language.

A page is data an administrator edits (in English). The shipped pages' translations are
files beside the English ones, ``content/<language>/<slug>.md`` (same header and body
format). A translation is shown only while the stored page is still the shipped English text:
once an administrator has changed the English, the translation may say something else, so the
English page is shown, with a note in the visitor's language (``PageShown.translated`` False).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from ketaclinic.site.models import Page

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@dataclass(frozen=True)
class PageShown:
    pk: int
    slug: str
    title: str
    summary: str
    body: str
    updated_at: datetime
    translated: bool
    """False when the visitor's language is not English and this page is shown in English."""


@cache
def _shipped(language: str, slug: str) -> dict[str, str] | None:
    folder = CONTENT_DIR if language == "en" else CONTENT_DIR / language
    path = folder / f"{slug}.md"
    if not path.is_file():
        return None
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return {"title": meta["title"], "summary": meta.get("summary", ""), "body": body.strip()}


def page_shown(page: Page, language: str) -> PageShown:
    base = language.split("-", 1)[0].lower()
    english = PageShown(
        pk=page.pk,
        slug=page.slug,
        title=page.title,
        summary=page.summary,
        body=page.body,
        updated_at=page.updated_at,
        translated=base == "en",
    )
    if base == "en":
        return english
    original = _shipped("en", page.slug)
    translation = _shipped(base, page.slug)
    unchanged = original is not None and (
        page.title == original["title"]
        and page.summary == original["summary"]
        and page.body.strip() == original["body"]
    )
    if translation is None or not unchanged:
        return english
    return PageShown(
        pk=page.pk,
        slug=page.slug,
        title=translation["title"],
        summary=translation["summary"],
        body=translation["body"] + "\n",
        updated_at=page.updated_at,
        translated=True,
    )
