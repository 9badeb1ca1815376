"""Reading users: the API token lookup, on the path of every programmatic request."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from ketaclinic.accounts.models import ApiToken, User, token_hash

TOKEN_MAX_LENGTH = 200


def _user_by_token_sql() -> str:
    user, token = User._meta, ApiToken._meta
    return (
        f"SELECT u.* FROM {user.db_table} u "  # noqa: S608  table names from our own models
        f"JOIN {token.db_table} t ON t.user_id = u.{user.pk.column} "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s "
        "AND u.is_active"
    )


def user_for_api_token(raw: str) -> User | None:
    """The active user whose unrevoked, unexpired token this is, or None.

    One query, written out by hand: it runs on every API request, and the ORM spends about
    five times the CPU of the query itself composing it (see bench/README.md). The rules are
    those of `ApiToken.is_active`, checked by the database against the current time.
    """
    if not raw or len(raw) > TOKEN_MAX_LENGTH:
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    found = list(User.objects.raw(_user_by_token_sql(), [token_hash(raw), now]))
    return found[0] if found else None
