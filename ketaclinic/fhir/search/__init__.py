"""One search layer for every FHIR resource type: parameters, keyset paging, the Bundle.

A resource type is a ``ResourceType`` (``engine.py``): one or more ``Source``s (a queryset, its
sort and filter expressions, a builder to JSON) and the search parameters it supports
(``params.py``). ``search`` runs a search and returns a ``Page``; ``bundle.py`` writes the
searchset Bundle with ``total``, ``link`` self/next/previous and an OperationOutcome entry
naming the parameters that were ignored.

Paging is keyset paging over (sort value, source, primary key), bounded by the snapshot time
of the first page, so a row inserted while a client pages never shows twice and never pushes
another out. The cursor in ``next``/``previous`` is signed and carries no patient data: only
the position's source and primary key (our ids), the snapshot time and the direction.
"""
