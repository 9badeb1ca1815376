"""Reading users: the API token lookup, on the path of every programmatic request; staff
accounts for the administrator's setup pages."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.access import require
from ketaclinic.accounts.models import AccountChange, ApiToken, User, token_hash
from ketaclinic.accounts.roles import Role

TOKEN_MAX_LENGTH = 200


_USER_FIELDS = list(User._meta.concrete_fields)


@functools.cache
def _user_by_token_sql() -> str:
    user, token = User._meta, ApiToken._meta
    columns = ", ".join(f"u.{f.column}" for f in _USER_FIELDS)
    return (
        f"SELECT {columns} FROM {user.db_table} u "  # noqa: S608  names from our own models
        f"JOIN {token.db_table} t ON t.user_id = u.{user.pk.column} "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s "
        "AND u.is_active"
    )


def user_for_api_token(raw: str) -> User | None:
    """The active user whose unrevoked, unexpired token this is, or None.

    One query, written out by hand: it runs on every API request, and the ORM spends about
    five times the CPU of the query itself composing it (see bench/README.md). The rules are
    those of `ApiToken.is_active`, checked by the database against the current time. The row
    becomes a `User` as the ORM makes one (`from_db`, with each field's converters), without
    a `RawQuerySet`'s per-query set-up (issue 16: ~10 % of a FHIR search's CPU).
    """
    if not raw or len(raw) > TOKEN_MAX_LENGTH:
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_user_by_token_sql(), [token_hash(raw), now])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, converters in _user_converters(connection.vendor):
        field = _USER_FIELDS[index]
        for converter in converters:
            values[index] = converter(values[index], field, connection)
    return User.from_db(connection.alias, [f.attname for f in _USER_FIELDS], values)


@functools.cache
def _user_converters(vendor: str) -> list[tuple[int, list[Any]]]:
    """Each column's converters from the database's value to the field's, as the ORM's
    compiler finds them (`get_converters`): only the columns that have some."""
    found = []
    for index, field in enumerate(_USER_FIELDS):
        column = field.get_col(User._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((index, converters))
    return found


@dataclass(frozen=True)
class StaffRow:
    user: User
    two_factor: bool


def staff_users_for_admin(user: Any) -> list[StaffRow]:
    """Every staff account with whether it has a confirmed TOTP device; one query."""
    require(user, "user.manage")
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    rows = (
        User.objects.exclude(role__in=[Role.PATIENT, Role.CLIENT])
        .annotate(has_totp=Exists(confirmed))
        .order_by("-is_active", "last_name", "first_name", "username")
    )
    return [StaffRow(row, bool(row.has_totp)) for row in rows]


def staff_user_for_admin(user: Any, user_id: int) -> tuple[User, bool, list[AccountChange]]:
    """One staff account, whether it has a confirmed TOTP device, and its changes (newest
    first); User.DoesNotExist for a patient's account or an unknown id."""
    require(user, "user.manage")
    found = User.objects.exclude(role__in=[Role.PATIENT, Role.CLIENT]).get(pk=user_id)
    has_totp = TOTPDevice.objects.filter(user=found, confirmed=True).exists()
    changes = list(AccountChange.objects.filter(user=found).select_related("changed_by")[:50])
    return found, has_totp, changes
