"""Idempotency for the JSON API's writes: every POST, PUT and PATCH under /api/v1/ is safe to
retry with an ``Idempotency-Key`` header (issue 18 item 3).

The one mechanism, for every write operation (registered once in ``ketaclinic/api/v1.py``):

- The client sends ``Idempotency-Key: <1-100 visible ASCII characters>`` (a UUID per intended
  write). The key is scoped to the authenticated user; an anonymous operation ignores it.
- The first request with a key runs in one database transaction together with the key's row
  (``models.IdempotentRequest``: the key, a SHA-256 fingerprint of method, path with query and
  body, and the answer's status, content type, body and ``Location``). A 2xx answer is stored
  with the write, atomically: a write is never stored without its key, nor the key without
  the write. A 4xx answer releases the key (a retry runs again); a 5xx rolls back the write
  and the key together.
- A retry with the same key and the same request answers with the stored answer, byte for
  byte, marked ``Idempotent-Replayed: true``; nothing runs again.
- The same key with a different request answers 422 (problem details, field
  ``Idempotency-Key``, type ``urn:ketaclinic:problem:idempotency-key-reused``) and stores
  nothing.
- Concurrent requests with one key do not both run: the second's insert of the key waits for
  the first's transaction (PostgreSQL: the unique index; SQLite: the write lock taken at
  BEGIN IMMEDIATE), then replays its answer. A key seen unfinished answers 409.
- Answers are kept ``services.RETENTION`` (24 hours); a user's older ones are deleted as new
  ones are stored.

Public API:

- ``api.idempotency_install(api, own_mechanism=[...])``: register on a NinjaAPI.
- ``api.idempotency_document(schema)``: list the header on those operations in the OpenAPI.
- ``api.HEADER``, ``api.REPLAYED_HEADER``.

The vitals post keeps its own mechanism (the key on the reading, checked in the chair-side hot
path's one locked query: ``ketaclinic/infusions/services/vitals.py``) with the same rules: a
replay answers with the first reading (200), a different reading under the same key 422.
"""
