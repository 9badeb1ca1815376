"""The invitation link: the patient chooses a password, and is signed in to the portal.

As Django's own password-reset page does, the token is moved from the URL into the session at
once and the browser sent to a URL without it, so that it never shows in the address bar, the
history or a Referer header afterwards.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.portal.forms import WelcomePasswordForm
from ketaclinic.portal.services import invitations
from ketaclinic.portal.services.language import language_keep_chosen
from ketaclinic.portal.views.rendering import portal_render

_SESSION_KEY = "_portal_invitation_token"
_SET_PASSWORD = "set-password"  # noqa: S105  a URL word, not a secret


def _gone(request: HttpRequest) -> HttpResponse:
    return portal_render(request, "portal/welcome_gone.html", status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if token != _SET_PASSWORD:
        request.session[_SESSION_KEY] = token
        return redirect("portal:welcome", uidb64=uidb64, token=_SET_PASSWORD)
    real = request.session.get(_SESSION_KEY, "")
    try:
        invitation = invitations.invitation_find(uidb64, real)
    except invitations.InvitationInvalid:
        return _gone(request)
    form = WelcomePasswordForm(invitation.user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account = invitations.invitation_accept(
                    uidb64=uidb64, token=real, password=form.cleaned_data["new_password1"]
                )
            except invitations.InvitationInvalid:
                return _gone(request)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("new_password2", message)
            else:
                request.session.pop(_SESSION_KEY, None)
                login(request, account, backend="django.contrib.auth.backends.ModelBackend")
                # The language they read this page in (chosen before they had an account).
                language_keep_chosen(acting_user=account, language=translation.get_language() or "")
                return redirect("portal:home")
        status = 422
    context = {"form": form, "username": invitation.user.username}
    return portal_render(request, "portal/welcome.html", context, status=status)


def welcome_base(request: HttpRequest) -> HttpResponse:
    """The start of every invitation link (it only makes the links); on its own, the same
    page as a spent link."""
    return _gone(request)
