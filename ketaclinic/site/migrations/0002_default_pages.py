"""The shipped pages of the public site, from ketaclinic/site/content/*.md.

Each file starts with `title:`, `summary:` and `position:` lines, then a `---` line, then the
Markdown body. A page that already exists (edited by an administrator) is left alone.
"""

from pathlib import Path

from django.db import migrations

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


def _read(path):
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return {
        "title": meta["title"],
        "summary": meta.get("summary", ""),
        "position": int(meta.get("position", "0")),
        "body": body.strip() + "\n",
    }


def load_pages(apps, schema_editor):
    Page = apps.get_model("site", "Page")
    for path in sorted(CONTENT_DIR.glob("*.md")):
        Page.objects.get_or_create(slug=path.stem, defaults=_read(path))


def unload_pages(apps, schema_editor):
    Page = apps.get_model("site", "Page")
    slugs = [path.stem for path in CONTENT_DIR.glob("*.md")]
    Page.objects.filter(slug__in=slugs, updated_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("site", "0001_initial")]

    operations = [migrations.RunPython(load_pages, unload_pages)]
