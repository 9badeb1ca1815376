"""Inviting a patient to the portal and accepting the invitation.

The link carries the invitation's id (base64) and a token made by a subclass of Django's
``PasswordResetTokenGenerator``: an HMAC over the invitation's state and the account's password
hash, keyed with the secret key and timestamped. Accepting sets a password, which changes the
hash and marks the invitation accepted, so the link works once; a newer invitation revokes the
older ones. The e-mail says only that an account is waiting: no clinical content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import LanguagePreference, PatientInvitation

# A clinic choice, not a clinical number: long enough for a weekend, short enough that a
# forgotten e-mail does not open an account months later. Never longer than Django's
# PASSWORD_RESET_TIMEOUT, which the token's own timestamp is checked against.
INVITATION_HOURS = 72

# Staff who invite a patient: intake, clinicians, the administrator (the brief of issue 15);
# nurses chart, they do not open accounts.
INVITING_ROLES = frozenset({Role.INTAKE, Role.CLINICIAN, Role.ADMIN})


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token, over the invitation instead of the user (its own salt)."""

    key_salt = "ketaclinic.portal.invitation"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        invitation: PatientInvitation = user
        account: User = invitation.user
        return (
            f"{invitation.pk}|{account.pk}|{account.password}|{invitation.accepted_at}|"
            f"{invitation.revoked_at}|{invitation.expires_at.isoformat()}|{timestamp}"
        )


invitation_tokens = InvitationTokenGenerator()


class InvitationRefused(Exception):
    """Why an invitation cannot be sent (shown to staff beside the button)."""


class InvitationInvalid(Exception):
    """The link is unknown, used, replaced or expired; the page says so, and nothing else."""


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: PatientInvitation
    uidb64: str
    token: str


def may_invite(user: Any) -> bool:
    role = getattr(user, "role", None)
    return bool(getattr(user, "is_authenticated", False)) and role in INVITING_ROLES


def _validity() -> timedelta:
    return min(
        timedelta(hours=INVITATION_HOURS), timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    )


def _account_for(patient: Patient, email: str) -> User:
    """The patient's own account (made now, without a usable password, if there is none)."""
    account = User.objects.filter(patient=patient).first()
    if account is not None:
        if account.has_usable_password():
            raise InvitationRefused("This patient already has a portal account.")
        if account.username != email and User.objects.filter(username=email).exists():
            raise InvitationRefused("Another account already uses this e-mail address.")
        account.username = email
        account.email = email
        account.save(update_fields=["username", "email"])
        return account
    if User.objects.filter(username=email).exists():
        raise InvitationRefused("Another account already uses this e-mail address.")
    account = User(username=email, email=email, role=Role.PATIENT.value, patient=patient)
    account.set_unusable_password()
    account.full_clean()
    account.save(force_insert=True)
    return account


@transaction.atomic
def invitation_send(*, acting_user: Any, patient: Patient, link_base: str) -> IssuedInvitation:
    """Invite the patient by e-mail to the address on their record. ``link_base`` is the
    absolute URL of the welcome page up to the id and token (``.../portal/welcome/``).
    Older open invitations of the patient are revoked. Audited (create)."""
    if not may_invite(acting_user) or not user_can(acting_user, "patient.view_any"):
        raise PermissionDenied("portal.invite")
    email = (patient.email or "").strip().lower()
    if not email:
        raise InvitationRefused("Add the patient's e-mail address to their record first.")
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    account = _account_for(locked, email)
    now = timezone.now()
    PatientInvitation.objects.filter(
        patient=locked, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    invitation = PatientInvitation(
        patient=locked,
        user=account,
        email=email,
        invited_by=acting_user,
        invited_at=now,
        expires_at=now + _validity(),
    )
    invitation.full_clean(exclude=["patient", "user", "invited_by"])
    invitation.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="PatientInvitation",
        object_id=invitation.pk,
        patient_id=locked.pk,
    )
    issued = IssuedInvitation(
        invitation=invitation,
        uidb64=urlsafe_base64_encode(force_bytes(invitation.pk)),
        token=invitation_tokens.make_token(cast(Any, invitation)),  # the invitation is the key
    )
    context = {
        "link": f"{link_base}{issued.uidb64}/{issued.token}/",
        "clinic_name": settings.KETACLINIC_CLINIC_NAME,
        "hours": INVITATION_HOURS,
        "clinic_phone": settings.KETACLINIC_CLINIC_PHONE,
    }
    # In the patient's own language when they chose one (a new invitation after they did);
    # else English, the staff's language.
    kept = LanguagePreference.objects.filter(patient_id=locked.pk).values_list("language").first()
    with translation.override(kept[0] if kept else "en"):
        subject = render_to_string("portal/email/invitation_subject.txt", context).strip()
        body = render_to_string("portal/email/invitation_body.txt", context)
    # After commit: no e-mail for an invitation that was rolled back.
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return issued


def invitation_find(uidb64: str, token: str) -> PatientInvitation:
    """The open invitation the link names, if its token is good; else InvitationInvalid."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        raise InvitationInvalid from None
    invitation = PatientInvitation.objects.select_related("user").filter(pk=pk).first()
    if invitation is None or not invitation_tokens.check_token(cast(Any, invitation), token):
        raise InvitationInvalid
    if not invitation.is_open():
        raise InvitationInvalid
    return invitation


@transaction.atomic
def invitation_accept(*, uidb64: str, token: str, password: str) -> User:
    """Set the account's password and mark the invitation accepted; the link is spent.
    ValidationError (``password``) for a password the validators refuse. Audited (update):
    the actor is the patient's own account."""
    invitation = invitation_find(uidb64, token)
    invitation = PatientInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open():
        raise InvitationInvalid
    account = User.objects.select_for_update().get(pk=invitation.user_id)
    try:
        validate_password(password, account)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    account.set_password(password)
    account.is_active = True
    account.save(update_fields=["password", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        actor=account,
        action=Action.UPDATE,
        object_type="PatientInvitation",
        object_id=invitation.pk,
        patient_id=invitation.patient_id,
    )
    return account
