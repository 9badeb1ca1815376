"""SMART Backend Services for the FHIR API: programs registered by the administrator, the
token endpoint, SMART v2 scopes (v1 accepted and mapped) enforced on every FHIR request and
on every Bundle entry.

For other FHIR code (Bulk Data export, ``$everything``, ``_include``), the API is:

- ``ketaclinic.fhir.smart.access.current_grant() -> Grant | None``: the grant of the request
  being served (bound by ``fhir_endpoint`` around the view); None for a person's API token,
  whose role rules decide as before.
- ``ketaclinic.fhir.smart.rules.scopes.permits(grant, type_name, interaction, resource=None)
  -> bool``, pure: ``interaction`` is ``read``, ``search``, ``create``, ``update`` or
  ``delete``; ``resource`` (the resource as a dict) is needed where a scope carries a query
  constraint (``patient/Observation.rs?category=...``), which then must hold on it. The patient
  tie of a one-patient program is not checked there: its account sees that patient only.
- ``access.entry_permitted(full_url, text) -> bool``: the Bundle writer's per-entry check
  (``fhir/bundle.py``), any type named by ``.../Type/id`` in ``full_url``.
- An export: call ``permits(grant, t, "search")`` for every type it writes (and drop or refuse
  the rest); ``check.request_refusal`` already refuses a kick-off whose ``_type`` is not all
  covered, and any path ``rules.requests.request_asks`` does not know (the polling and file
  URLs) until it is mapped there.
"""
