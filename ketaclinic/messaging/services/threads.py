"""Threads and messages: a patient starts a thread or replies; staff reply, assign and mark
read. Every write in one transaction with its audit rows; notices after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.messaging.models import Attachment, Message, Thread, ThreadRead
from ketaclinic.messaging.rules.urgent import urgent_phrases_found
from ketaclinic.messaging.services import notices
from ketaclinic.messaging.services.attachments import CheckedFile, Upload, attachments_check
from ketaclinic.messaging.services.words import urgent_words_current
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag

URGENT_FLAG_CODE = "message-urgent"
URGENT_FLAG_TITLE = "Urgent words in a patient's message"
BODY_MAX = 5000


@dataclass(frozen=True)
class Sent:
    thread: Thread
    message: Message
    urgent: bool


def _body_clean(body: str) -> str:
    text = body.strip()
    if not text:
        raise ValidationError({"body": _("Please write your message.")})
    if len(text) > BODY_MAX:
        raise ValidationError(
            {"body": _("Please keep a message under %(n)d characters.") % {"n": BODY_MAX}}
        )
    return text


def _own_patient_id(acting_user: Any) -> UUID:
    patient_id = getattr(acting_user, "patient_id", None)
    if not user_can(acting_user, "message.own") or patient_id is None:
        raise PermissionDenied("message.own")
    return UUID(str(patient_id))


def _subject_clean(subject: str, empty: str, too_long: str) -> str:
    title = " ".join(subject.split())
    if not title:
        raise ValidationError({"subject": empty})
    if len(title) > 120:
        raise ValidationError({"subject": too_long})
    return title


def _thread_new(
    acting_user: Any,
    patient_id: UUID,
    title: str,
    text: str,
    checked: list[CheckedFile],
    link: str,
) -> Sent:
    """A new thread with its first message, in one transaction with their audit rows; the
    other side is told after commit (``link``: where they read it)."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        now = timezone.now()
        thread = Thread(
            patient=patient,
            subject=title,
            started_by=acting_user,
            started_at=now,
            last_message_at=now,
        )
        thread.full_clean(exclude=["patient", "started_by"])
        thread.save(force_insert=True)
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="MessageThread",
            object_id=thread.pk,
            patient_id=patient.pk,
        )
        return _append(acting_user, thread, patient, text, checked, now, inbox_link=link)


def thread_start(
    *,
    acting_user: Any,
    subject: str,
    body: str,
    files: Sequence[Upload] = (),
    inbox_link: str,
) -> Sent:
    """A patient's new thread to the care team."""
    patient_id = _own_patient_id(acting_user)
    title = _subject_clean(
        subject,
        _("Please say what your message is about."),
        _("Please keep the subject under 120 characters."),
    )
    text = _body_clean(body)
    checked = attachments_check(files)
    return _thread_new(acting_user, patient_id, title, text, checked, inbox_link)


def thread_start_to_patient(
    *,
    acting_user: Any,
    patient_id: UUID,
    subject: str,
    body: str,
    files: Sequence[Upload] = (),
    portal_link: str,
) -> Sent:
    """A member of the care team writes first (a result to discuss, a form to bring): a new
    thread to one patient, who is told by e-mail without its text, as for a reply."""
    if not user_can(acting_user, "message.staff"):
        raise PermissionDenied("message.staff")
    title = _subject_clean(
        subject, "Say what the message is about.", "Keep the subject under 120 characters."
    )
    text = _body_clean(body)
    checked = attachments_check(files)
    return _thread_new(acting_user, patient_id, title, text, checked, portal_link)


def message_reply(
    *,
    acting_user: Any,
    thread_id: UUID,
    body: str,
    files: Sequence[Upload] = (),
    link: str,
) -> Sent:
    """A reply on a thread, by its patient or by staff. ``link`` is where the other side
    reads it (the portal for the patient, the inbox for the clinic). Thread.DoesNotExist for
    a thread the user may not see."""
    text = _body_clean(body)
    checked = attachments_check(files)
    with transaction.atomic():
        thread = _thread_locked(acting_user, thread_id)
        patient = Patient.objects.select_for_update().get(pk=thread.patient_id)
        return _append(acting_user, thread, patient, text, checked, timezone.now(), inbox_link=link)


def _thread_locked(acting_user: Any, thread_id: UUID) -> Thread:
    rows = Thread.objects.select_for_update()
    if user_can(acting_user, "message.staff"):
        return rows.get(pk=thread_id)
    return rows.get(pk=thread_id, patient_id=_own_patient_id(acting_user))


def _append(
    acting_user: Any,
    thread: Thread,
    patient: Patient,
    text: str,
    checked: list[CheckedFile],
    now: Any,
    *,
    inbox_link: str,
) -> Sent:
    from_patient = not user_can(acting_user, "message.staff")
    found: tuple[str, ...] = ()
    version = None
    if from_patient:
        words = urgent_words_current()
        found, version = urgent_phrases_found(text, words.phrases), words.version
    message = Message(
        thread=thread,
        author=acting_user,
        from_patient=from_patient,
        body=text,
        sent_at=now,
        urgent_phrases=list(found),
        urgent_words_version=version,
    )
    message.full_clean(exclude=["thread", "author"])
    message.save(force_insert=True)
    rows = [
        Attachment(
            message=message,
            filename=f.filename,
            content_type=f.kind.content_type,
            size=len(f.data),
            sha256=f.sha256,
            data=f.data,
        )
        for f in checked
    ]
    Attachment.objects.bulk_create(rows)
    fields = ["last_message_at"]
    thread.last_message_at = now
    if found and thread.urgent_since is None:
        thread.urgent_since = now
        fields.append("urgent_since")
    thread.save(update_fields=fields)
    targets = [AuditTarget("Message", str(message.pk), patient.pk)]
    targets += [AuditTarget("MessageAttachment", str(a.pk), patient.pk) for a in rows]
    audit_record_many(actor=acting_user, action=Action.CREATE, targets=targets)
    # The author has read what they wrote.
    _read_upto(acting_user, thread, now)
    if found:
        _urgent_flag_open(acting_user, patient, message, now)
    if from_patient:
        urgent = bool(found)
        transaction.on_commit(lambda: notices.clinic_notice(inbox_link=inbox_link, urgent=urgent))
    else:
        patient_id = patient.pk
        transaction.on_commit(
            lambda: notices.patient_notice(patient_id=patient_id, portal_link=inbox_link)
        )
    return Sent(thread=thread, message=message, urgent=bool(found))


def _urgent_flag_open(acting_user: Any, patient: Patient, message: Message, now: Any) -> None:
    """A safety flag on the patient's record (where staff see flags), unless one from a
    message is open; the clinicians are told after commit. The caller holds the patient lock."""
    if SafetyFlag.objects.filter(
        patient=patient, code=URGENT_FLAG_CODE, status=FlagStatus.ACTIVE
    ).exists():
        return
    flag = SafetyFlag(
        patient=patient,
        code=URGENT_FLAG_CODE,
        title=URGENT_FLAG_TITLE,
        severity="urgent",
        status=FlagStatus.ACTIVE,
        opened_at=now,
        source_object_type="Message",
        source_object_id=str(message.pk),
    )
    flag.full_clean()
    flag.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="SafetyFlag",
        object_id=flag.pk,
        patient_id=patient.pk,
    )
    from ketaclinic.scales.services import clinicians_notify

    flag_ids = [flag.pk]
    transaction.on_commit(lambda: clinicians_notify(flag_ids=flag_ids))


def _read_upto(user: Any, thread: Thread, moment: Any) -> None:
    row, created = ThreadRead.objects.get_or_create(
        thread=thread, user=user, defaults={"read_at": moment}
    )
    if not created and row.read_at < moment:
        row.read_at = moment
        row.save(update_fields=["read_at"])


def thread_mark_read(*, acting_user: Any, thread: Thread) -> None:
    """The user has read the thread up to its newest message (their own read state only).
    The caller read the thread through a selector (which checked access and audited it)."""
    _read_upto(acting_user, thread, thread.last_message_at)


@transaction.atomic
def thread_assign(*, acting_user: Any, thread_id: UUID, assignee_id: int | None) -> Thread:
    """Give the thread to a staff member (or to nobody). Audited with the change."""
    if not user_can(acting_user, "message.staff"):
        raise PermissionDenied("message.staff")
    thread = Thread.objects.select_for_update().get(pk=thread_id)
    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or not user_can(assignee, "message.staff"):
            raise ValidationError({"assignee": "Choose a member of the care team."})
    if thread.assigned_to_id == (assignee.pk if assignee else None):
        return thread
    thread.assigned_to = assignee
    thread.save(update_fields=["assigned_to"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="MessageThread",
        object_id=thread.pk,
        patient_id=thread.patient_id,
    )
    return thread


@transaction.atomic
def thread_urgent_clear(*, acting_user: Any, thread_id: UUID) -> Thread:
    """Staff have dealt with the urgent message: the thread leaves the top of the inbox. The
    safety flag on the record stays until a clinician acknowledges it there."""
    if not user_can(acting_user, "message.staff"):
        raise PermissionDenied("message.staff")
    thread = Thread.objects.select_for_update().get(pk=thread_id)
    if thread.urgent_since is None:
        return thread
    thread.urgent_since = None
    thread.save(update_fields=["urgent_since"])
    audit_record(
        actor=acting_user,
        action=Action.UPDATE,
        object_type="MessageThread",
        object_id=thread.pk,
        patient_id=thread.patient_id,
    )
    return thread
