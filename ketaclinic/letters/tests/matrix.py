"""Builders for the letters' rows of the URL role matrix (tests/test_url_matrix.py) and the
portal's documents rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ketaclinic.infusions.models import Session
from ketaclinic.intake.models import Inquiry
from ketaclinic.letters.services.letters import letter_draft
from ketaclinic.letters.services.referrals import referral_record
from ketaclinic.letters.tests.records import course_make, gp_make, signed_letter
from ketaclinic.testing import Clinic

PDF = b"%PDF-1.4\n%%EOF\n"


def _inquiry() -> Inquiry:
    return Inquiry.objects.create(
        name="Matrix Referred", email="m@example.org", consent_to_contact=True
    )


def inquiry_referrals_url(c: Clinic) -> str:
    return f"/letters/inquiries/{_inquiry().pk}/referrals/"


def referral_pdf_url(c: Clinic) -> str:
    referral = referral_record(
        acting_user=c.users["cleo"],
        inquiry=_inquiry(),
        referrer_name="Dr Matrix",
        referrer_role="gp",
        reason="Matrix",
        received_on=date(2026, 12, 1),
        letter=PDF,
        letter_name="m.pdf",
    )
    return f"/letters/referrals/{referral.pk}/pdf/"


def draft_url(suffix: str = "") -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        course_make(c)
        letter = letter_draft(
            acting_user=c.users["ada"], patient=c.pat, kind="induction", recipient=gp_make(c)
        )
        return f"/letters/{letter.pk}/{suffix}"

    return build


def signed_url(suffix: str = "") -> Callable[[Clinic], str]:
    def build(c: Clinic) -> str:
        return f"/letters/{signed_letter(c).pk}/{suffix}"

    return build


def portal_letter_url(c: Clinic) -> str:
    return f"/portal/documents/letters/{signed_letter(c).pk}/"


def portal_discharge_url(c: Clinic) -> str:
    course_make(c)
    session = Session.objects.filter(course__patient=c.pat).first()
    assert session is not None
    return f"/portal/documents/sessions/{session.pk}/after/"
