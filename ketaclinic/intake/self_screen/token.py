"""Carrying a self-screen from its result page to the inquiry form without storing it.

The answers travel in a signed, timestamped token (``django.core.signing``) in a hidden POST
field: nothing is kept on the server, in the session or in a URL. The signature stops anyone
changing the answers on the way; it does not hide them (the token is the person's own answers
in their own browser). The scores are recomputed from the answers whenever the token is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Final

from django.core import signing
from django.utils import timezone

from ketaclinic.intake.self_screen.scoring import (
    ScreenResult,
    SelfScreenInvalid,
    record_taken_at,
    self_screen_score_all,
)

SALT: Final = "ketaclinic.site.self_screen"
MAX_AGE: Final = timedelta(hours=2)
VERSION: Final = 1


class TokenInvalid(ValueError):
    """The token was changed, is not a token, or holds answers that no longer score."""


class TokenExpired(TokenInvalid):
    """The token is older than ``MAX_AGE``."""


def self_screen_token_make(results: Sequence[ScreenResult]) -> str:
    """A token holding the answers (only the answers) of ``results``."""
    screens = [{"instrument": r.code, "answers": dict(r.answers)} for r in results]
    # When the person answered: the date of the self-screen, should it reach a record.
    taken_at = timezone.now().isoformat()
    return signing.dumps(
        {"v": VERSION, "screens": screens, "taken_at": taken_at}, salt=SALT, compress=True
    )


def self_screen_token_read(token: str) -> list[ScreenResult]:
    """The self-screen results in ``token``, scored afresh.

    Raises ``TokenExpired`` past ``MAX_AGE`` and ``TokenInvalid`` for anything else wrong.
    """
    try:
        payload: Any = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise TokenExpired("the self-screen results are more than 2 hours old") from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("the self-screen results were changed or are damaged") from exc
    except ValueError as exc:  # a valid signature over data that is not our JSON
        raise TokenInvalid("the self-screen results are damaged") from exc
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise TokenInvalid("the self-screen results are in an unknown format")
    screens = payload.get("screens")
    if not isinstance(screens, list) or not screens:
        raise TokenInvalid("the self-screen results are in an unknown format")
    if not all(isinstance(screen, dict) for screen in screens):
        raise TokenInvalid("the self-screen results are in an unknown format")
    try:
        results = self_screen_score_all(screens)
    except SelfScreenInvalid as exc:
        raise TokenInvalid("the self-screen results cannot be scored") from exc
    taken_at = record_taken_at(payload)  # absent from tokens made before it was added
    return [replace(result, taken_at=taken_at) for result in results]
