"""The rows the data migrations ship (protocols, eligibility rules and consent documents, the
public site's pages), put back for a test that runs after a flush.

A transactional test (every browser test: the live server's thread must see committed rows)
ends with a flush of every table, which removes these rows too, so a later transactional test
on the same worker would find no protocol, no rule set, no page. Each loader is the data
migration's own function, run against the models as that migration knew them; each skips
what is already there, so calling this on an intact database changes nothing."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import StateApps

SHIPPED_BY: tuple[tuple[str, str, str], ...] = (
    ("courses", "0002_shipped_protocols", "load_shipped"),
    ("courses", "0003_shipped_protocols_predose_holds", "add_shipped_versions"),
    ("intake", "0003_shipped_rules_and_consent", "load_shipped"),
    ("site", "0002_default_pages", "load_pages"),
)


@functools.cache
def _loaders() -> tuple[tuple[Callable[[Any, Any], None], StateApps], ...]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for app, name, function in SHIPPED_BY:
        module = importlib.import_module(f"ketaclinic.{app}.migrations.{name}")
        found.append((getattr(module, function), loader.project_state((app, name)).apps))
    return tuple(found)


def shipped_data_ensure(*, apps_only: tuple[str, ...] = ()) -> None:
    """Run each data migration's loader again (each is idempotent); with `apps_only`, only
    those apps' (the courses tests need just the protocols)."""
    for (app, _name, _function), (load, apps) in zip(SHIPPED_BY, _loaders(), strict=True):
        if not apps_only or app in apps_only:
            load(apps, None)
