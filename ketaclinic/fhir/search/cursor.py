"""The paging cursor: signed, opaque, and free of patient data.

It carries the position (the index of the source and the primary key of the last or first row
shown: our own ids, which are already the FHIR ids or part of them), the snapshot time of the
first page, the direction and the resource type. The sort value of the position is looked up
again from the row, so no clinical date travels in a URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing

_SALT = "ketaclinic.fhir.search.cursor"
MAX_AGE_SECONDS = 24 * 3600  # a cursor is for paging through one result now, not a bookmark


class CursorInvalid(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    resource_type: str
    snapshot: datetime
    source: int
    pk: str
    backward: bool

    def dumps(self) -> str:
        return signing.dumps(
            [self.resource_type, self.snapshot.isoformat(), self.source, self.pk, self.backward],
            salt=_SALT,
            compress=True,
        )


def cursor_loads(text: str, resource_type: str) -> Cursor:
    try:
        kind, snapshot, source, pk, backward = signing.loads(
            text, salt=_SALT, max_age=MAX_AGE_SECONDS
        )
    except signing.SignatureExpired:
        raise CursorInvalid("this paging link has expired: search again") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise CursorInvalid("this paging link is not one this server made") from None
    if kind != resource_type:
        raise CursorInvalid(f"this paging link belongs to a {kind} search")
    return Cursor(kind, datetime.fromisoformat(snapshot), int(source), str(pk), bool(backward))
