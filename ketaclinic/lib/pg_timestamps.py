"""PostgreSQL ``timestamptz`` values read by psycopg's C loader on every connection.

Django registers its own ``timestamptz`` loader on each psycopg connection
(``django.db.backends.postgresql.psycopg_any.BaseTzLoader``): a subclass of psycopg's
pure-Python loader (a regular expression and ``datetime`` arithmetic per value) that then
replaces the tzinfo with the connection's zone. psycopg's C loader (the ``psycopg[binary]``
package we install) reads the same text ~15x faster (~0.35 against ~5.5 us a value on this
machine), but Python cannot subclass it. A page that reads a long history reads hundreds of
timestamps (the patient page's live outcomes: ~400), ~2 ms of CPU in Django's loader.

So each new connection gets a loader that calls the C loader and then does exactly what
Django's does, ``replace(tzinfo=...)`` with the same zone; it carries the ``timezone``
attribute Django's ``create_cursor`` compares, so a cursor of a connection in another zone
still gets Django's own loader. Without the C implementation the Python loader is used, as
before. ``tests/test_pg_timestamps.py`` holds the two loaders equal.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import cache
from typing import Any

from django.db.backends.signals import connection_created

TIMESTAMPTZ = "timestamptz"


@cache
def loader_for(zone: tzinfo | None) -> type[Any]:
    """A loader class for ``zone`` (one class per zone, as Django's ``register_tzloader``)."""
    from psycopg import adapters, postgres
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    fast: Any = adapters.get_loader(postgres.types[TIMESTAMPTZ].oid, Format.TEXT)

    class FastTzLoader(Loader):
        timezone = zone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = fast(oid, context).load

        def load(self, data: Any) -> Any:
            value = self._load(data)
            return value if value.tzinfo is zone else value.replace(tzinfo=zone)

    return FastTzLoader


def _register(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    connection.connection.adapters.register_loader(TIMESTAMPTZ, loader_for(connection.timezone))


def install() -> None:
    connection_created.connect(_register, dispatch_uid="ketaclinic.lib.pg_timestamps")
