"""Turning 2FA off (refused for the roles that must keep it), and the administrator's setup
pages for staff accounts: create, role, password reset, lock and unlock, two-factor reset, each
with a reason where it changes an account, audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from two_factor.views import DisableView

from ketaclinic.accounts import selectors, services
from ketaclinic.accounts.access import require
from ketaclinic.accounts.forms import PasswordSetForm, ReasonForm, RoleForm, StaffUserForm
from ketaclinic.accounts.lockouts import lockout_release, lockouts_current
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.lib.forms import service_errors_onto

_disable = DisableView.as_view()


def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turning 2FA off is refused for the roles that must use it."""
    if getattr(request.user, "two_factor_required", False):
        raise PermissionDenied("this role must keep two-factor authentication")
    response: HttpResponse = _disable(request)
    return response


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    """The administrator's list of sign-in lockouts in force, each with an unlock button."""
    require(request.user, "account.unlock")
    if request.method == "POST":
        raw = request.POST.get("lockout", "")
        if raw.isdigit() and lockout_release(acting_user=request.user, lockout_id=int(raw)):
            messages.success(request, "Unlocked. The person can sign in again now.")
        else:
            messages.info(request, "That lockout had already ended.")
        return redirect("accounts:lockouts")
    context = {"lockouts": lockouts_current(), "limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "accounts/lockouts.html", context)


# -- the administrator's setup pages ------------------------------------------------------------


@login_required
@require_GET
def setup_home(request: HttpRequest) -> HttpResponse:
    """Where the administrator sets the clinic up, without the API or the command line."""
    require(request.user, "user.manage")
    return render(request, "accounts/setup.html", {})


@login_required
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    """The staff accounts, and a form to add one."""
    require(request.user, "user.manage")
    form = StaffUserForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.staff_user_create(
                    acting_user=request.user,
                    username=data["username"],
                    role=data["role"],
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                )
            except ValidationError as exc:
                service_errors_onto(form, exc, {"password": "password1"})
            else:
                messages.success(
                    request, f"Account {created.username} created ({created.role_enum.label})."
                )
                return redirect("accounts:user", user_id=created.pk)
    context = {"rows": selectors.staff_users_for_admin(request.user), "form": form}
    return render(request, "accounts/users.html", context, status=status)


def _user_page(
    request: HttpRequest,
    user_id: int,
    *,
    bound: dict[str, forms.Form] | None = None,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        account, has_totp, changes = selectors.staff_user_for_admin(request.user, user_id)
    except User.DoesNotExist:
        raise Http404 from None
    bound = bound or {}
    context = {
        "account": account,
        "has_totp": has_totp,
        "changes": changes,
        "is_self": account.pk == request.user.pk,
        "role_form": bound.get("role")
        or RoleForm(initial={"role": account.role}, auto_id="role-%s"),
        "password_form": bound.get("password") or PasswordSetForm(auto_id="pw-%s"),
        "lock_form": bound.get("lock") or ReasonForm(auto_id="lock-%s"),
        "two_factor_form": bound.get("two_factor") or ReasonForm(auto_id="tf-%s"),
        "refused_form": next(iter(bound), ""),
        "refused": refused,
    }
    return render(request, "accounts/user.html", context, status=status)


@login_required
@require_GET
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    require(request.user, "user.manage")
    return _user_page(request, user_id)


def _account_write(
    request: HttpRequest,
    user_id: int,
    name: str,
    form: forms.Form,
    write: Callable[[User, dict[str, Any]], str],
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    require(request.user, "user.manage")
    try:
        account = User.objects.exclude(role=Role.PATIENT).get(pk=user_id)
    except User.DoesNotExist:
        raise Http404 from None
    status, refused = 422, ""
    if form.is_valid():
        try:
            message = write(account, form.cleaned_data)
        except services.AccountRefused as exc:
            status, refused = 409, str(exc)
        except ValidationError as exc:
            service_errors_onto(form, exc, aliases)
        else:
            messages.success(request, message)
            return redirect("accounts:user", user_id=account.pk)
    return _user_page(request, user_id, bound={name: form}, refused=refused, status=status)


@login_required
@require_POST
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    def write(account: User, data: dict[str, Any]) -> str:
        services.staff_user_role_set(
            acting_user=request.user, user=account, role=data["role"], reason=data["reason"]
        )
        return f"{account.username} is now {account.role_enum.label}."

    return _account_write(
        request, user_id, "role", RoleForm(request.POST, auto_id="role-%s"), write
    )


@login_required
@require_POST
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    def write(account: User, data: dict[str, Any]) -> str:
        services.staff_user_password_set(
            acting_user=request.user,
            user=account,
            password=data["password1"],
            reason=data["reason"],
        )
        return f"New password set for {account.username}; give it to them in person."

    form = PasswordSetForm(request.POST, auto_id="pw-%s")
    return _account_write(request, user_id, "password", form, write, {"password": "password1"})


def _lock(request: HttpRequest, user_id: int, locked: bool) -> HttpResponse:
    def write(account: User, data: dict[str, Any]) -> str:
        services.staff_user_lock(
            acting_user=request.user, user=account, locked=locked, reason=data["reason"]
        )
        return f"{account.username} is {'locked' if locked else 'unlocked'}."

    return _account_write(
        request, user_id, "lock", ReasonForm(request.POST, auto_id="lock-%s"), write
    )


@login_required
@require_POST
def user_lock(request: HttpRequest, user_id: int) -> HttpResponse:
    return _lock(request, user_id, True)


@login_required
@require_POST
def user_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    return _lock(request, user_id, False)


@login_required
@require_POST
def user_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    def write(account: User, data: dict[str, Any]) -> str:
        removed = services.staff_user_two_factor_reset(
            acting_user=request.user, user=account, reason=data["reason"]
        )
        return (
            f"Two-factor authentication of {account.username} reset ({removed} device"
            f"{'s' if removed != 1 else ''} removed); they enrol again at their next sign-in."
        )

    form = ReasonForm(request.POST, auto_id="tf-%s")
    return _account_write(request, user_id, "two_factor", form, write)
