"""Which language a page is in, once the user is known (after ``LocaleMiddleware``, which has
chosen from the language cookie or the browser's languages).

- a signed-in patient: the language kept on their portal record (``LanguagePreference``), so
  that it follows them to a new device; the cookie is set to it, so that the pages after
  signing out stay in it;
- staff (any other signed-in role): English, whatever the cookie says (staff pages are not
  translated, and half-translated pages from Django's own catalogues would mix languages);
- a visitor: as ``LocaleMiddleware`` chose.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from ketaclinic.accounts.access import user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.portal.models import LanguagePreference

STAFF_LANGUAGE = "en"


def kept_language(request: HttpRequest) -> str:
    """The signed-in patient's kept language, '' when they never chose one: one indexed
    query per patient request (the same on every page, so the pages' query guards hold)."""
    patient_id = getattr(request.user, "patient_id", None)
    if patient_id is None:
        return ""
    found = (
        LanguagePreference.objects.filter(patient_id=patient_id)
        .values_list("language", flat=True)
        .first()
    )
    return found or ""


class PatientLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        role = user_role(getattr(request, "user", None))
        language = ""
        if role == Role.PATIENT:
            language = kept_language(request)
        elif role is not None:
            language = STAFF_LANGUAGE
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if role == Role.PATIENT and language and cookie != language:
            _set_cookie(response, language)
        return response


def _set_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite="Lax",  # settings.LANGUAGE_COOKIE_SAMESITE, typed as the literal it is
    )
