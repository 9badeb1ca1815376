"""Whether a user may see one patient, as ``patients_visible_to`` says, in a statement of
fixed text (issue 16: the FHIR search's access check).

``patient_get_for_user`` builds ``patients_visible_to(user).get(pk=...)`` through the ORM on
every search: composing that statement and making a ``Patient`` of the row cost ~15 % of a
search's CPU, though the search needs only to know yes or no. Here the same queryset,
``patients_visible_to(user).filter(pk=<id>).values_list("pk")``, is compiled once per set of
the user's attributes that the rule reads (``_rule_inputs``) with a stand-in id, kept, and run
again with the id asked about. The rule itself is not written here: whatever
``patients_visible_to`` returns is what runs (a queryset that can match nothing, nothing runs;
one whose compiled form does not hold the stand-in exactly once, the ORM answers as before).
``tests/test_visible.py`` proves it answers as the ORM does for every role and program kind.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Hashable
from typing import Any
from uuid import UUID

from django.core.exceptions import EmptyResultSet
from django.db import connection

from ketaclinic.accounts.access import user_role
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user, patients_visible_to

# A stand-in no patient has: compiled into the kept statement where the id asked about goes.
_STAND_IN = uuid.UUID("6b657461-636c-696e-6963-2d6973737565")


def _rule_inputs(user: Any) -> Hashable:
    """Everything of the user that ``patients_visible_to`` and ``user_can`` read: who it is,
    its role (``user_role``: also whether it is signed in), a program's rights for this token
    (``granted_permissions``) and the patient it is (``patient_id``)."""
    granted = getattr(user, "granted_permissions", None)
    return (
        type(user),
        getattr(user, "pk", None),
        user_role(user),
        None if granted is None else frozenset(granted),
        getattr(user, "patient_id", None),
    )


def _stand_in_values() -> tuple[Any, ...]:
    """The stand-in as the backend binds it (PostgreSQL a UUID, SQLite its hex)."""
    return (_STAND_IN, _STAND_IN.hex, str(_STAND_IN))


class _Keyed:
    """The user, hashed and compared by its rule inputs only (the cache's key)."""

    __slots__ = ("inputs", "user")

    def __init__(self, user: Any) -> None:
        self.user = user
        self.inputs = _rule_inputs(user)

    def __hash__(self) -> int:
        return hash(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and other.inputs == self.inputs


@functools.lru_cache(maxsize=1024)
def _statement(keyed: _Keyed, vendor: str) -> tuple[str, tuple[Any, ...], int] | None:
    """(statement, its parameters, the index of the id among them); index -1 when the rule
    matches no patient for these inputs; None when the compiled form cannot be kept (the
    ORM answers). The first user with these inputs is the one compiled for."""
    rows = patients_visible_to(keyed.user).filter(pk=_STAND_IN).values_list("pk")
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return ("", (), -1)
    at = [i for i, value in enumerate(params) if value in _stand_in_values()]
    if len(at) != 1:
        return None
    return sql, tuple(params), at[0]


def patient_visible(user: Any, patient_id: UUID) -> bool:
    """Whether ``user`` may see the patient ``patient_id`` (``patients_visible_to``'s rule):
    one statement of fixed text, prepared by PostgreSQL once it has run a few times."""
    kept = _statement(_Keyed(user), connection.vendor)
    if kept is None:
        try:
            patient_get_for_user(user, patient_id, audit=False)
        except Patient.DoesNotExist:
            return False
        return True
    sql, params, at = kept
    if at < 0:
        return False
    bound = list(params)
    stand_in = bound[at]
    bound[at] = (
        patient_id
        if isinstance(stand_in, UUID)
        else (patient_id.hex if stand_in == _STAND_IN.hex else str(patient_id))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        return cursor.fetchone() is not None
