"""Reads of intake's pipeline: the board and one inquiry with its history. Role checked, and
every inquiry shown is an audited read (without a patient, so with no name in the row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from ketaclinic.accounts.access import require
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import AuditTarget, audit_record_many
from ketaclinic.intake.models import ContactAttempt, Inquiry, InquiryStatus, InquiryStatusChange
from ketaclinic.intake.rules.pipeline import BOARD_ORDER, FINISHED, FollowUp, follow_up_state
from ketaclinic.intake.self_screen import SELF_SCREEN_CODES

COLUMN_LIMIT: Final = 50
"""At most this many inquiries per status on the board, newest first (the count is the total);
in "New", those whose self-screen raised an urgent flag come first."""
DUE_LIMIT: Final = 100
SPAM_LIMIT: Final = 100
HISTORY_LIMIT: Final = 200


@dataclass(frozen=True)
class BoardColumn:
    status: str
    label: str
    count: int
    inquiries: list[Inquiry]


@dataclass(frozen=True)
class DueFollowUp:
    inquiry: Inquiry
    state: FollowUp


@dataclass(frozen=True)
class Board:
    due: list[DueFollowUp]
    columns: list[BoardColumn]
    spam_count: int


@dataclass(frozen=True)
class InquiryHistory:
    attempts: list[ContactAttempt]
    status_changes: list[InquiryStatusChange]


def _audit_reads(user: Any, inquiries: list[Inquiry]) -> None:
    seen: set[int] = set()
    targets = []
    for inquiry in inquiries:
        if inquiry.pk not in seen:
            seen.add(inquiry.pk)
            targets.append(AuditTarget("Inquiry", str(inquiry.pk), None))
    if targets:
        audit_record_many(actor=user, action=Action.READ, targets=targets)


def _newest_first(rows: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    return rows.order_by("-created_at", "-id")


def _urgent_new() -> Case:
    """1 for a new inquiry whose self-screen raised an urgent flag (PHQ-9 item 9 above 0,
    stored as ``item9_positive`` when the inquiry was scored), else 0: such an inquiry comes
    first in "New". A self-screen holds at most one record per instrument."""
    positive = Q()
    for index in range(len(SELF_SCREEN_CODES)):
        positive |= Q(**{f"self_screen__{index}__item9_positive": True})
    return Case(
        When(positive & Q(status=InquiryStatus.NEW), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def inquiry_board_for_user(user: Any, *, today: date) -> Board:
    """The board: due and overdue follow-ups, then one column per status (spam left out).

    Four queries whatever the number of inquiries; each inquiry shown is read once.
    """
    require(user, "inquiry.view")
    real = Inquiry.objects.filter(is_spam=False)
    counts = dict(real.values_list("status").annotate(n=Count("id")).order_by())
    order = [F("urgent").desc(), F("created_at").desc(), F("id").desc()]
    ranked = (
        real.annotate(urgent=_urgent_new())
        .annotate(rank=Window(RowNumber(), partition_by=F("status"), order_by=order))
        .filter(rank__lte=COLUMN_LIMIT)
    )
    shown = list(ranked.order_by(*order))
    due_rows = list(
        real.filter(follow_up_on__lte=today)
        .exclude(status__in=FINISHED)
        .order_by("follow_up_on", "created_at", "id")[:DUE_LIMIT]
    )
    spam_count = Inquiry.objects.filter(is_spam=True).count()
    _audit_reads(user, [*shown, *due_rows])
    labels = dict(InquiryStatus.choices)
    columns = [
        BoardColumn(
            status=status,
            label=str(labels[status]),
            count=counts.get(status, 0),
            inquiries=[i for i in shown if i.status == status],
        )
        for status in BOARD_ORDER
    ]
    due = []
    for inquiry in due_rows:
        state = follow_up_state(inquiry.follow_up_on, inquiry.status, today)
        if state is not None:
            due.append(DueFollowUp(inquiry=inquiry, state=state))
    return Board(due=due, columns=columns, spam_count=spam_count)


def inquiry_spam_list_for_user(user: Any) -> list[Inquiry]:
    """The newest inquiries marked as spam, to check them and unmark a real one."""
    require(user, "inquiry.view")
    rows = list(_newest_first(Inquiry.objects.filter(is_spam=True))[:SPAM_LIMIT])
    _audit_reads(user, rows)
    return rows


def inquiry_get_for_user(user: Any, inquiry_id: int) -> Inquiry:
    """One inquiry (spam included); Inquiry.DoesNotExist for an unknown id."""
    require(user, "inquiry.view")
    inquiry = Inquiry.objects.select_related("patient").get(pk=inquiry_id)
    _audit_reads(user, [inquiry])
    if inquiry.patient_id is not None:  # the page names the patient record it became
        audit_record_many(
            actor=user,
            action=Action.READ,
            targets=[AuditTarget("Patient", str(inquiry.patient_id), inquiry.patient_id)],
        )
    return inquiry


def inquiry_history(inquiry: Inquiry) -> InquiryHistory:
    """The inquiry's contact attempts and status changes, newest first (read with it)."""
    attempts = ContactAttempt.objects.filter(inquiry=inquiry).select_related("by")
    changes = InquiryStatusChange.objects.filter(inquiry=inquiry).select_related("by")
    return InquiryHistory(
        attempts=list(attempts.order_by("-attempted_at", "-id")[:HISTORY_LIMIT]),
        status_changes=list(changes.order_by("-changed_at", "-id")[:HISTORY_LIMIT]),
    )
