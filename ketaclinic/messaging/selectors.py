"""Reads of secure messages. Every read checks who may see the thread (staff: any; a patient:
their own, else ``Thread.DoesNotExist`` exactly as for an id that does not exist) and is
audited. Read state is the reader's own."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record, audit_record_many
from ketaclinic.lib.compiled_read import CompiledRead, Slot
from ketaclinic.messaging.models import Attachment, Message, Thread, ThreadRead

INBOX_LIMIT = 100


class InboxView(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {
            InboxView.MINE: "Assigned to me",
            InboxView.UNASSIGNED: "Unassigned",
            InboxView.ALL: "All",
            InboxView.URGENT: "Urgent",
        }[self]


def is_staff_reader(user: Any) -> bool:
    return user_can(user, "message.staff")


def _own_patient_id(user: Any) -> UUID:
    patient_id = getattr(user, "patient_id", None)
    if not user_can(user, "message.own") or patient_id is None:
        raise PermissionDenied("message.own")
    return UUID(str(patient_id))


def _visible(user: Any) -> QuerySet[Thread]:
    if is_staff_reader(user):
        return Thread.objects.all()
    return Thread.objects.filter(patient_id=_own_patient_id(user))


def _with_unread(rows: QuerySet[Thread], user: Any) -> QuerySet[Thread]:
    """Each thread with ``unread``: the other side's messages newer than the user's read."""
    other_side = is_staff_reader(user)  # from_patient: staff read the patient's, and back
    mine = ThreadRead.objects.filter(thread=OuterRef("pk"), user=user).values("read_at")[:1]
    # no-redef: Thread declares ``unread`` (typed for its readers); this sets it.
    return rows.annotate(my_read=Subquery(mine)).annotate(  # type: ignore[no-redef]
        unread=Count(
            "messages",
            filter=Q(messages__from_patient=other_side)
            & (Q(my_read__isnull=True) | Q(messages__sent_at__gt=F("my_read"))),
        )
    )


def _unread(*, staff: bool) -> QuerySet[Any, Any]:
    reader = Slot("user", models.IntegerField())
    mine = ThreadRead.objects.filter(thread=OuterRef("thread_id"), user_id=reader).values(
        "read_at"
    )[:1]
    rows = Message.objects.filter(from_patient=staff)  # staff read the patient's, and back
    if not staff:
        rows = rows.filter(thread__patient_id=Slot("patient", models.UUIDField()))
    return (
        rows.order_by()
        .annotate(my_read=Subquery(mine))
        .filter(Q(my_read__isnull=True) | Q(sent_at__gt=F("my_read")))
        .values(n=Func(F("pk"), function="COUNT", output_field=models.IntegerField()))
    )


# Compiled once per process (the navigation counts on every page: ~1 ms less each).
_UNREAD_STAFF = CompiledRead(lambda: _unread(staff=True))
_UNREAD_OWN = CompiledRead(lambda: _unread(staff=False))


def unread_total(user: Any) -> int:
    """How many messages from the other side the user has not read (the navigation's badge).
    One query. Counts, not patient data: not audited."""
    if is_staff_reader(user):
        return int(_UNREAD_STAFF.dicts(user=user.pk)[0]["n"])
    if not user_can(user, "message.own"):
        return 0
    return int(_UNREAD_OWN.dicts(user=user.pk, patient=_own_patient_id(user))[0]["n"])


def _audit_threads(user: Any, threads: list[Thread]) -> None:
    audit_record_many(
        actor=user,
        action=Action.READ,
        targets=[AuditTarget("MessageThread", str(t.pk), t.patient_id) for t in threads],
    )


def own_threads(user: Any) -> list[Thread]:
    """The patient's own threads, newest first, each with ``unread``. Audited."""
    rows = list(_with_unread(Thread.objects.filter(patient_id=_own_patient_id(user)), user))
    _audit_threads(user, rows)
    return rows


def inbox(user: Any, view: InboxView, *, patient_id: UUID | None = None) -> list[Thread]:
    """The staff inbox: urgent threads first, then the newest; each with ``unread``, its
    patient and assignee preloaded. One query, then the audit. At most ``INBOX_LIMIT``."""
    if not is_staff_reader(user):
        raise PermissionDenied("message.staff")
    rows = Thread.objects.select_related("patient", "assigned_to")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if view is InboxView.MINE:
        rows = rows.filter(assigned_to=user)
    elif view is InboxView.UNASSIGNED:
        rows = rows.filter(assigned_to__isnull=True)
    elif view is InboxView.URGENT:
        rows = rows.filter(urgent_since__isnull=False)
    found = list(
        _with_unread(rows, user).order_by(
            F("urgent_since").desc(nulls_last=True), "-last_message_at"
        )[:INBOX_LIMIT]
    )
    _audit_threads(user, found)
    return found


@dataclass(frozen=True)
class ThreadPage:
    thread: Thread
    messages: list[Message]
    # Whether the patient's crisis notice shows (the thread holds an urgent patient message
    # that staff have not yet dealt with).
    urgent: bool


def thread_for_user(user: Any, thread_id: UUID) -> ThreadPage:
    """One thread with its messages, authors and attachments (no file bytes); audited reads
    of the thread and each message. Thread.DoesNotExist for one the user may not see."""
    thread = _visible(user).select_related("patient", "assigned_to").get(pk=thread_id)
    messages = list(
        Message.objects.filter(thread=thread)
        .select_related("author")
        # The files' names and sizes, never their bytes (those only on download).
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.defer("data")))
        .order_by("sent_at", "id")
    )
    targets = [AuditTarget("MessageThread", str(thread.pk), thread.patient_id)]
    targets += [AuditTarget("Message", str(m.pk), thread.patient_id) for m in messages]
    audit_record_many(actor=user, action=Action.READ, targets=targets)
    return ThreadPage(thread=thread, messages=messages, urgent=thread.urgent)


def attachment_for_user(user: Any, attachment_id: UUID) -> Attachment:
    """An attachment with its bytes, for download; audited. Attachment.DoesNotExist for one
    the user may not see."""
    rows = Attachment.objects.select_related("message__thread")
    if not is_staff_reader(user):
        rows = rows.filter(message__thread__patient_id=_own_patient_id(user))
    attachment = rows.get(pk=attachment_id)
    audit_record(
        actor=user,
        action=Action.READ,
        object_type="MessageAttachment",
        object_id=attachment.pk,
        patient_id=attachment.message.thread.patient_id,
    )
    return attachment


def care_team() -> list[User]:
    """Active staff who may hold a thread, for the assignment list."""
    from ketaclinic.accounts.roles import PERMISSIONS

    roles = [role.value for role in PERMISSIONS["message.staff"]]
    return list(User.objects.filter(role__in=roles, is_active=True).order_by("username"))
