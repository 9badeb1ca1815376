"""Staff invite a patient to the portal from the patient's page."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user
from ketaclinic.portal.services import invitations


@login_required
@require_POST
def invite(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    if not invitations.may_invite(request.user):
        raise PermissionDenied("portal.invite")
    try:
        patient = patient_get_for_user(request.user, patient_id, audit=False)
    except Patient.DoesNotExist:
        raise Http404 from None
    base = request.build_absolute_uri(reverse("portal:welcome_base"))
    try:
        issued = invitations.invitation_send(
            acting_user=request.user, patient=patient, link_base=base
        )
    except invitations.InvitationRefused as exc:
        messages.error(request, f"No invitation sent: {exc}")
    else:
        expires = timezone.localtime(issued.invitation.expires_at)
        messages.success(
            request,
            f"Invitation sent to {issued.invitation.email}; the link works once, "
            f"until {expires:%Y-%m-%d %H:%M}.",
        )
    return redirect("patients:detail", patient_id=patient.pk)
