"""A read whose SQL Django compiles once per process, then runs with the request's values.

Building and compiling a queryset (cloning, resolving lookups and joins, ``as_sql``) costs
~0.3-2 ms of CPU per query on this kind of machine, more than the indexed read itself; a page
that makes fifteen such reads spends a third of its time there. A ``CompiledRead`` is written
as an ordinary queryset in which the values that change from one call to the next are
``Slot``s; the first call on a database compiles it, later calls fill the slots into the kept
SQL and parameters and run it, converting the rows as Django would (``from_db_value``
converters), as model instances (``select_related`` and annotations included) or as dicts
(``values()``).

Only reads whose shape does not depend on the values may be compiled: a slot stands for one
scalar value (an id, a time), never a list, and no ``None`` (Django writes ``IS NULL`` for it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Expression, Field, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler


class Slot(Expression):
    """A value filled in when the compiled read runs (``read.objects(name=value)``)."""

    def __init__(self, name: str, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s", (self,)

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class _Compiled:
    def __init__(self, queryset: QuerySet[Any, Any], alias: str) -> None:
        compiler: SQLCompiler = queryset.query.get_compiler(using=alias)
        self.sql, params = compiler.as_sql()
        self.params: tuple[Any, ...] = tuple(params)
        self.alias = alias
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())
        self.values = queryset._iterable_class is ValuesIterable
        if not self.values and queryset._iterable_class is not ModelIterable:
            raise TypeError("a compiled read yields model instances or values() dicts")
        if self.values:
            query = queryset.query
            self.names = (
                list(query.selected)
                if query.selected
                else [
                    *query.extra_select,
                    *query.values_select,
                    *query.annotation_select,
                ]
            )
            return
        klass_info = compiler.klass_info
        assert klass_info is not None
        self.model: type[Model] = klass_info["model"]
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [f[0].target.attname for f in compiler.select[self.start : self.end]]
        # call-arg: django-stubs describe a later Django (a fetch_mode argument); 5.2 takes three.
        self.populators = get_related_populators(  # type: ignore[call-arg]
            klass_info, compiler.select, alias
        )
        self.annotations = list(compiler.annotation_col_map.items())

    def rows(self, values: dict[str, Any]) -> list[list[Any]]:
        connection = connections[self.alias]
        if any(v is None for v in values.values()):
            # Django writes IS NULL for None; the kept SQL says "= %s", which matches nothing:
            # refuse rather than answer differently from the queryset.
            raise ValueError("a compiled read's slot cannot hold None")
        params = [
            p.output_field.get_db_prep_value(values[p.name], connection)
            if isinstance(p, Slot)
            else p
            for p in self.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        rows = [list(row) for row in fetched]
        for row in rows:
            for position, (functions, expression) in self.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        return rows

    def objects(self, values: dict[str, Any]) -> list[Any]:
        found = []
        for row in self.rows(values):
            obj = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def dicts(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows(values)]


class CompiledRead:
    """``build()`` returns the queryset (with ``Slot``s); it is called once per database."""

    def __init__(self, build: Callable[[], QuerySet[Any, Any]], *, using: str = "default") -> None:
        self._build = build
        self._using = using
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _get(self) -> _Compiled:
        connection = connections[self._using]
        # The vendor and database name in the key: a test run may point "default" elsewhere.
        key = (connection.vendor, str(connection.settings_dict.get("NAME")))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    compiled = self._compiled[key] = _Compiled(self._build(), self._using)
        return compiled

    def objects(self, **values: Any) -> list[Any]:
        """The rows as model instances (related rows and annotations set as Django does)."""
        return self._get().objects(values)

    def dicts(self, **values: Any) -> list[dict[str, Any]]:
        """The rows of a ``values()`` queryset, as its dicts."""
        return self._get().dicts(values)

    def sql(self) -> str:
        return self._get().sql
