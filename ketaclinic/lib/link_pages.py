"""Pages a patient opens from a single-use link (the questionnaire link, the kiosk session, the
consent link): the random token in their URL is the only key.

``@patient_link_page`` marks such a view. It does two things, for every such page alike:

- it pins ``Referrer-Policy: same-origin`` on the page, so that the token-bearing URL never goes
  to another site in a Referer, while the page's own form still sends its origin. (A
  ``no-referrer`` policy also hides the token, but Chromium then posts the form with
  ``Origin: null``, which Django's CSRF check refuses: the patient got a 403.) The whole site
  has the same policy (``SECURE_REFERRER_POLICY``); here it cannot be loosened by accident.
- it tells the CSRF failure page (``web.views.csrf_failure``) and the console log that this is
  a patient's link page: the page uses the bare patient layout (no staff navigation), and the
  log shows the URL's route instead of its token.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

REFERRER_POLICY = "same-origin"
_MARK = "patient_link_page"

View = Callable[..., HttpResponseBase]


def patient_link_page(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = REFERRER_POLICY
        return response

    setattr(wrapped, _MARK, True)
    return wrapped


def is_patient_link_page(request: HttpRequest) -> bool:
    """Whether the request was routed to a ``@patient_link_page`` view."""
    match = getattr(request, "resolver_match", None)
    return match is not None and getattr(match.func, _MARK, False) is True


class LinkTokenRedaction(logging.Filter):
    """Django logs some responses with the request's path (a CSRF refusal, a server error);
    for a patient's link page, the log gets the URL's route (``/scales/q/<str:token>/``)
    instead, since the token opens the patient's form until it is used."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if not isinstance(request, HttpRequest) or not is_patient_link_page(request):
            return True
        assert request.resolver_match is not None  # is_patient_link_page checked it
        route = "/" + request.resolver_match.route
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.replace(request.path, route) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = record.msg.replace(request.path, route)
        return True
