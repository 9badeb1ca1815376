"""Intake's day: new inquiries (urgent first), follow-ups due today or overdue, and the
inquiries whose next step is booking an evaluation.

Read as the intake board reads them (the same order, urgency rule and column limit), but only
what the page shows: three queries, each compiled once per process (lib/compiled_read.py),
the counts riding along as window counts; the inquiries shown are the audited reads. (It was
the whole board: every column's fifty newest, each audited, and the spam count.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber

from ketaclinic.accounts.access import require
from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.intake.rules.pipeline import FINISHED, follow_up_state
from ketaclinic.intake.selectors import (
    COLUMN_LIMIT,
    DueFollowUp,
    _audit_reads,  # the board's own audit of inquiries read (no patient, so no name)
    _urgent_new,  # the board's urgency rule, so that both pages put the same people first
)
from ketaclinic.lib.compiled_read import CompiledRead, Slot

SHOWN = 15
"""Items per card; the card's count is the total."""

TO_BOOK = (InquiryStatus.CONTACTED, InquiryStatus.SCREENING_BOOKED)
"""Contacted or screened: the next step is booking the clinician's evaluation."""


@dataclass
class IntakeDay:
    new: list[Inquiry]
    new_count: int
    urgent_count: int
    due: list[DueFollowUp]
    to_book: list[Inquiry]
    to_book_count: int


_REAL = Q(is_spam=False)

_NEW = CompiledRead(
    # The newest first, those whose self-screen raised an urgent flag before them (the
    # board's "New" column); how many there are and how many are urgent ride along.
    lambda: (
        Inquiry.objects.filter(_REAL, status=InquiryStatus.NEW)
        .annotate(urgent=_urgent_new())
        .annotate(in_all=Window(Count("pk")), urgent_in_all=Window(Sum("urgent")))
        .order_by(F("urgent").desc(), F("created_at").desc(), F("id").desc())[:SHOWN]
    )
)
_DUE = CompiledRead(
    # As the board's follow-ups: due today or overdue, intake's work not finished.
    lambda: (
        Inquiry.objects.filter(_REAL, follow_up_on__lte=Slot("today", models.DateField()))
        .exclude(status__in=FINISHED)
        .order_by("follow_up_on", "created_at", "id")[:SHOWN]
    )
)
_TO_BOOK = CompiledRead(
    # The oldest first among each column's COLUMN_LIMIT newest (what the board shows of the
    # two columns), contacted before screened on the same instant; how many in all rides along.
    lambda: (
        Inquiry.objects.filter(_REAL, status__in=TO_BOOK)
        .annotate(
            in_all=Window(Count("pk")),
            rank=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=[F("created_at").desc(), F("id").desc()],
            ),
            column=Case(
                When(status=InquiryStatus.CONTACTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .filter(rank__lte=COLUMN_LIMIT)
        .order_by("created_at", "column", F("id").desc())[:SHOWN]
    )
)


def intake_day_for_user(user: Any, *, today: date) -> IntakeDay:
    require(user, "inquiry.view")
    new: list[Inquiry] = _NEW.objects()
    due_rows: list[Inquiry] = _DUE.objects(today=today)
    to_book: list[Inquiry] = _TO_BOOK.objects()
    _audit_reads(user, [*new, *due_rows, *to_book])
    due = []
    for inquiry in due_rows:
        state = follow_up_state(inquiry.follow_up_on, inquiry.status, today)
        if state is not None:
            due.append(DueFollowUp(inquiry=inquiry, state=state))
    return IntakeDay(
        new=new,
        new_count=int(getattr(new[0], "in_all", 0)) if new else 0,
        urgent_count=int(getattr(new[0], "urgent_in_all", 0) or 0) if new else 0,
        due=due,
        to_book=to_book,
        to_book_count=int(getattr(to_book[0], "in_all", 0)) if to_book else 0,
    )
