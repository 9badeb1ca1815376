"""The language switch on every patient-facing page: Django's ``set_language`` (the cookie,
the safe redirect back), and for a signed-in patient their choice kept on their record."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from ketaclinic.accounts.access import user_role
from ketaclinic.accounts.roles import Role
from ketaclinic.portal.services import language as language_services


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    response = set_language(request)
    chosen = request.POST.get("language", "")
    if user_role(request.user) == Role.PATIENT and language_services.supported(chosen):
        language_services.language_choose(acting_user=request.user, language=chosen)
    return response
