"""The demo's inquiries: one or more in every status, an urgent one (PHQ-9 item 9 above 0 on
its self-screen) among the new, follow-ups due today and overdue."""

from __future__ import annotations

from datetime import date, timedelta

from ketaclinic.accounts.models import User
from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.intake.services import inquiry_create, inquiry_status_change

PHQ9_ITEM9 = {"1": 2, "2": 2, "3": 1, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 1}
GAD7_HIGH = {"1": 3, "2": 2, "3": 3, "4": 2, "5": 2, "6": 2, "7": 3}

# (name, status, follow-up in days from today or None, self-screen)
INQUIRIES: tuple[tuple[str, str, int | None, str], ...] = (
    ("Robin Demo-Hale", InquiryStatus.NEW, None, ""),
    ("Sasha Demo-Urgent", InquiryStatus.NEW, None, "phq9_item9"),
    ("Toni Demo-Vance", InquiryStatus.NEW, None, "gad7"),
    ("Uma Demo-Reid", InquiryStatus.CONTACTED, 0, ""),
    ("Vic Demo-Stone", InquiryStatus.CONTACTED, -2, ""),
    ("Wren Demo-Ito", InquiryStatus.SCREENING_BOOKED, 3, ""),
    ("Xan Demo-Ford", InquiryStatus.EVALUATION_BOOKED, 5, ""),
    ("Yael Demo-Cruz", InquiryStatus.EVALUATED, 0, ""),
    ("Zeno Demo-Park", InquiryStatus.ELIGIBLE, None, ""),
    ("Ari Demo-Nolan", InquiryStatus.NOT_ELIGIBLE, None, ""),
    ("Bo Demo-Lund", InquiryStatus.DECLINED, None, ""),
    ("Cy Demo-Marsh", InquiryStatus.CLOSED, None, ""),
)


def inquiries_ensure(*, intake: User, today: date) -> int:
    """Create the demo inquiries once (their names mark them); returns how many were made."""
    made = 0
    for index, (name, status, follow_up, screen) in enumerate(INQUIRIES):
        if Inquiry.objects.filter(name=name).exists():
            continue
        self_screen: list[dict[str, object]] = []
        if screen == "phq9_item9":
            self_screen = [{"instrument": "phq9", "answers": PHQ9_ITEM9}]
        elif screen == "gad7":
            self_screen = [{"instrument": "gad7", "answers": GAD7_HIGH}]
        inquiry = inquiry_create(
            # TEST-NET-1 addresses (RFC 5737), one per inquiry: the rate limit is per address.
            client_address=f"192.0.2.{10 + index}",
            name=name,
            email=f"{name.split()[0].lower()}@example.org",
            phone=f"555-02{index:02d}",
            concerns=["generalized_anxiety"],
            prior_treatments="Sertraline for a year; CBT (12 sessions).",
            message="I would like to know whether ketamine treatment could help me.",
            heard_about="My GP",
            consent_to_contact=True,
            self_screen=self_screen,
        )
        if status != InquiryStatus.NEW:
            inquiry_status_change(
                acting_user=intake,
                inquiry=inquiry,
                status=status,
                note="Demo clinic.",
                follow_up_on=today + timedelta(days=follow_up) if follow_up is not None else None,
            )
        made += 1
    return made
