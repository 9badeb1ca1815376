"""A patient confirms that someone will take them home after a coming session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.portal.models import RideConfirmation
from ketaclinic.portal.selectors import own_patient_id

# Sessions a ride can still be confirmed for: booked, or checked in but not yet infusing.
CONFIRMABLE = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)
# A session that started a little while ago (the patient is late, or in the waiting room).
_GRACE = timedelta(hours=2)


@transaction.atomic
def ride_confirm(*, acting_user: Any, session_id: Any, escort_name: str = "") -> RideConfirmation:
    """Record the patient's own confirmation for one of their coming sessions; a second
    confirmation updates the escort's name. Session.DoesNotExist for anyone else's session
    (the page answers 404, as for an id that does not exist). Audited."""
    patient_id = own_patient_id(acting_user)
    session = (
        Session.objects.select_for_update()
        .filter(course__patient_id=patient_id, pk=session_id)
        .get()
    )
    if session.status not in CONFIRMABLE or session.start < timezone.now() - _GRACE:
        raise ValidationError({"session": [_("This session can no longer be changed here.")]})
    existing = RideConfirmation.objects.filter(session=session).first()
    if existing is not None:
        existing.escort_name = escort_name
        existing.full_clean(exclude=["session", "patient", "confirmed_by"])
        existing.save(update_fields=["escort_name"])
        action, ride = Action.UPDATE, existing
    else:
        ride = RideConfirmation(
            session=session,
            patient_id=patient_id,
            escort_name=escort_name,
            confirmed_by=acting_user,
        )
        ride.full_clean(exclude=["session", "patient", "confirmed_by"])
        ride.save(force_insert=True)
        action = Action.CREATE
    audit_record(
        actor=acting_user,
        action=action,
        object_type="RideConfirmation",
        object_id=ride.pk,
        patient_id=patient_id,
    )
    return ride
