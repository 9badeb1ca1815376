"""The public self-screen's results as intake keeps them: scoring of the anonymous GAD-7/PHQ-9
(``scoring``) and the signed token that carries a result to an inquiry (``token``)."""

from __future__ import annotations

from ketaclinic.intake.self_screen.scoring import (
    RECORD_KEYS,
    REQUIRED_RECORD_KEYS,
    SELF_SCREEN_CODES,
    SHORT_NAMES,
    SUICIDE_RISK_FLAG,
    TOPICS,
    ScreenResult,
    SelfScreenInvalid,
    record_taken_at,
    self_screen_instrument,
    self_screen_record_problems,
    self_screen_score,
    self_screen_score_all,
    self_screen_summaries,
    self_screen_urgent_flags,
)
from ketaclinic.intake.self_screen.token import (
    MAX_AGE,
    SALT,
    VERSION,
    TokenExpired,
    TokenInvalid,
    self_screen_token_make,
    self_screen_token_read,
)

__all__ = [
    "MAX_AGE",
    "RECORD_KEYS",
    "REQUIRED_RECORD_KEYS",
    "SALT",
    "SELF_SCREEN_CODES",
    "SHORT_NAMES",
    "SUICIDE_RISK_FLAG",
    "TOPICS",
    "VERSION",
    "ScreenResult",
    "SelfScreenInvalid",
    "TokenExpired",
    "TokenInvalid",
    "record_taken_at",
    "self_screen_instrument",
    "self_screen_record_problems",
    "self_screen_score",
    "self_screen_score_all",
    "self_screen_summaries",
    "self_screen_token_make",
    "self_screen_token_read",
    "self_screen_urgent_flags",
]
