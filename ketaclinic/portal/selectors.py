"""The portal's reads. Everything a patient sees is fetched for their own record only (the
account's ``patient_id``, never an id from the URL alone), and each read is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, JSONField, OuterRef, QuerySet, Subquery, UUIDField
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.infusions.models import Session, SessionStatus
from ketaclinic.infusions.protocols import Preparation, ProtocolDataError
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.patients.models import Patient
from ketaclinic.portal.explain import ABOUT, ABOUT_ANY
from ketaclinic.portal.models import (
    ContactChange,
    LanguagePreference,
    PatientInvitation,
    RideConfirmation,
)
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument, InstrumentUnknown, translations
from ketaclinic.scales.schedules import due_for_patient
from ketaclinic.scales.services import short_name

UPCOMING_LIMIT = 5
# A session that started up to this long ago still shows (the patient is on the way, or in
# the waiting room, and may still confirm their ride).
STARTED_GRACE = timedelta(hours=2)


def own_patient_id(user: Any) -> UUID:
    """The patient record of a signed-in patient; PermissionDenied for anyone else (staff
    included: the portal is the patient's own)."""
    patient_id = getattr(user, "patient_id", None)
    if not user_can(user, "patient.view_own") or patient_id is None:
        raise PermissionDenied("patient.view_own")
    return UUID(str(patient_id))


def _audit(user: Any, targets: list[AuditTarget]) -> None:
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)


def own_patient(user: Any) -> Patient:
    """The patient's own record; an audited read."""
    patient = Patient.objects.get(pk=own_patient_id(user))
    _audit(user, [AuditTarget("Patient", str(patient.pk), patient.pk)])
    return patient


@dataclass(frozen=True)
class ComingSession:
    session: Session
    preparation: Preparation | None
    escort_required: bool
    ride: RideConfirmation | None

    @property
    def food_until(self) -> datetime | None:
        if self.preparation is None:
            return None
        return self.session.start - timedelta(minutes=self.preparation.no_food_minutes.value)

    @property
    def drinks_until(self) -> datetime | None:
        if self.preparation is None:
            return None
        return self.session.start - timedelta(minutes=self.preparation.no_drinks_minutes.value)

    @property
    def no_driving(self) -> bool:
        if self.preparation is None:
            return self.escort_required
        return self.preparation.no_driving_until_next_day.value


def coming_sessions(user: Any, *, now: datetime | None = None) -> list[ComingSession]:
    """The patient's next booked sessions with what to do before each (from the protocol
    version of the course) and their ride confirmation. Two queries; audited reads."""
    patient_id = own_patient_id(user)
    moment = now or timezone.now()
    sessions = list(
        Session.objects.filter(
            course__patient_id=patient_id,
            status__in=[SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN],
            start__gte=moment - STARTED_GRACE,
        )
        .select_related("course__protocol", "chair")
        .order_by("start")[:UPCOMING_LIMIT]
    )
    rides = {
        ride.session_id: ride
        for ride in RideConfirmation.objects.filter(session__in=[s.pk for s in sessions])
    }
    rows = []
    for session in sessions:
        try:
            definition = session.course.protocol.definition()
        except ProtocolDataError:
            preparation, escort = None, True
        else:
            preparation, escort = definition.preparation, definition.discharge.escort_required.value
        rows.append(ComingSession(session, preparation, escort, rides.get(session.pk)))
    _audit(user, [AuditTarget("Session", str(s.pk), patient_id) for s in sessions])
    return rows


def coming_session(user: Any, session_id: UUID) -> ComingSession:
    """One of the patient's coming sessions; Session.DoesNotExist for any other id."""
    for row in coming_sessions(user):
        if row.session.pk == session_id:
            return row
    raise Session.DoesNotExist


@dataclass(frozen=True)
class DueQuestionnaire:
    instrument: Instrument
    due_on: Any
    overdue: bool

    @property
    def short_name(self) -> str:
        """ "GAD-7" from "Generalized Anxiety Disorder 7-item scale (GAD-7)"."""
        return short_name(self.instrument)

    @property
    def name(self) -> str:
        """The title in the active language where the instrument has an official translation."""
        return translations.display_name(self.instrument, get_language())

    @property
    def about(self) -> str:
        return str(ABOUT.get(self.instrument.code, ABOUT_ANY))


def due_questionnaires(user: Any) -> list[DueQuestionnaire]:
    """The self-report questionnaires due for the patient (the scales app's due rules), one
    per instrument, overdue first. Clinician-rated scales are not the patient's to answer."""
    patient = Patient.objects.get(pk=own_patient_id(user))
    seen: set[str] = set()
    rows = []
    for row in due_for_patient(patient):
        code = row.schedule.instrument
        if code in seen:
            continue
        try:
            instrument = instruments.get(code)
        except InstrumentUnknown:
            continue
        if "self" not in instrument.respondents:
            continue
        seen.add(code)
        rows.append(DueQuestionnaire(instrument, row.item.due_on, row.item.status == "overdue"))
    return rows


@dataclass(frozen=True)
class PortalStatus:
    """For the staff page: whether the patient has a portal account, or an open invitation."""

    has_account: bool
    open_invitation: PatientInvitation | None
    last_invitation: PatientInvitation | None
    last_contact_change_at: datetime | None


_INVITATION_FIELDS = (
    "id",
    "user_id",
    "email",
    "invited_by_id",
    "invited_at",
    "expires_at",
    "accepted_at",
    "revoked_at",
)
_INVITATION_TIMES = ("invited_at", "expires_at", "accepted_at", "revoked_at")


def _moment(value: Any) -> datetime | None:
    """A time from the invitation's JSON: ISO text from PostgreSQL, UTC text from SQLite."""
    if value is None:
        return None
    moment = parse_datetime(str(value))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def _portal_status() -> QuerySet[Any, Any]:
    return (
        Patient.objects.filter(pk=Slot("patient", UUIDField()))
        .annotate(
            portal_password=Subquery(
                User.objects.filter(patient=OuterRef("pk")).order_by("pk").values("password")[:1]
            ),
            portal_account=Exists(User.objects.filter(patient=OuterRef("pk"))),
            last_contact_change_at=Subquery(
                ContactChange.objects.filter(patient=OuterRef("pk"))
                .order_by("-changed_at", "-pk")
                .values("changed_at")[:1]
            ),
            last_invitation=Subquery(
                PatientInvitation.objects.filter(patient=OuterRef("pk"))
                .order_by("-invited_at", "-pk")
                .values(json=JSONObject(**{name: name for name in _INVITATION_FIELDS}))[:1],
                output_field=JSONField(),
            ),
        )
        .order_by()
        .values("portal_password", "portal_account", "last_contact_change_at", "last_invitation")
    )


# Compiled once per process (lib/compiled_read.py): the staff record page reads it each view.
_PORTAL_STATUS = CompiledRead(_portal_status)


def portal_status(patient: Patient) -> PortalStatus:
    """The caller has checked access to the patient (the staff page read it). One query: the
    account's password (usable or not), the last invitation (as one JSON object) and the time
    of the last contact change, each a subquery on its (patient, time) index."""
    row = _PORTAL_STATUS.dicts(patient=patient.pk)[0]
    last = None
    fields = row["last_invitation"]
    if isinstance(fields, str):  # SQLite hands the object back as text
        fields = json.loads(fields)
    if fields:
        for name in _INVITATION_TIMES:
            fields[name] = _moment(fields[name])
        last = PatientInvitation(patient=patient, **{k: fields[k] for k in _INVITATION_FIELDS})
        last._state.adding = False
    return PortalStatus(
        has_account=bool(row["portal_account"]) and is_password_usable(row["portal_password"]),
        open_invitation=last if last is not None and last.is_open() else None,
        last_invitation=last,
        last_contact_change_at=row["last_contact_change_at"],
    )


def ride_for_session(session: Session) -> RideConfirmation | None:
    """The patient's ride confirmation for a session (the chart shows it at check-in; the
    caller has read the session)."""
    return RideConfirmation.objects.filter(session=session).first()


def patient_language(patient_id: UUID | None) -> str:
    """The language a patient chose for their pages (``LanguagePreference``), for what the
    clinic sends them outside a request (reminders, message notices); the clinic's default
    when they never chose one."""
    if patient_id is None:
        return str(settings.LANGUAGE_CODE)
    kept = LanguagePreference.objects.filter(patient_id=patient_id).values_list("language")
    row = kept.first()
    return row[0] if row else str(settings.LANGUAGE_CODE)
