"""Intake's day: new inquiries (urgent first), follow-ups due today or overdue, and the
inquiries whose next step is booking an evaluation. Read through the intake board's selector
(access checked, reads audited, a fixed number of queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.intake.selectors import DueFollowUp, inquiry_board_for_user

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


def intake_day_for_user(user: Any, *, today: date) -> IntakeDay:
    board = inquiry_board_for_user(user, today=today)
    columns = {column.status: column for column in board.columns}
    new = columns[InquiryStatus.NEW]
    to_book = [i for status in TO_BOOK for i in columns[status].inquiries]
    to_book.sort(key=lambda i: i.created_at)
    return IntakeDay(
        new=new.inquiries[:SHOWN],
        new_count=new.count,
        urgent_count=sum(1 for i in new.inquiries if getattr(i, "urgent", 0)),
        due=board.due[:SHOWN],
        to_book=to_book[:SHOWN],
        to_book_count=sum(columns[status].count for status in TO_BOOK),
    )
