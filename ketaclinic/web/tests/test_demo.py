"""`ketaclinic demo`: a clinic in the middle of its day, built through the services, the same
after a second run, with the audit trail and the ledger verifying."""

from __future__ import annotations

import base64
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit.verify import audit_verify
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.courses.models import Course
from ketaclinic.eligibility.models import EligibilityDecision, Evaluation
from ketaclinic.infusions.models import Session, SessionAlert, VitalsReading
from ketaclinic.intake.models import Inquiry, InquiryStatus
from ketaclinic.ledger.models import LedgerEntry, Receipt, StockCount
from ketaclinic.ledger.selectors.chain import ledger_verify
from ketaclinic.patients.models import Patient, SafetyFlag
from ketaclinic.scales.models import Administration


def _counts() -> dict[str, int]:
    models = (
        Patient, User, Inquiry, Evaluation, EligibilityDecision, ConsentSignature, Course,
        Session, VitalsReading, LedgerEntry, Administration, AuditEvent, SafetyFlag,
    )  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


def test_demo_builds_a_clinic_mid_day_twice_the_same_and_its_chains_verify(db: None) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    first = _counts()
    call_command("demo", stdout=StringIO())
    assert _counts() == first  # idempotent: the second run adds nothing, not even a read

    assert audit_verify() is None
    assert ledger_verify() == []
    assert Patient.objects.count() == 50
    assert set(User.objects.values_list("role", flat=True)) == {
        "admin", "clinician", "nurse", "intake", "patient", "therapist",
    }  # fmt: skip
    from ketaclinic.careplan.models import CarePlanVersion, IntegrationNote

    # Issue 15: signed care plans (Pat's among them) and signed integration notes.
    assert CarePlanVersion.objects.filter(status="signed").count() == 3
    assert CarePlanVersion.objects.filter(plan__patient__user_account__username="pat").exists()
    assert IntegrationNote.objects.filter(status="signed").count() == 2
    assert set(Inquiry.objects.values_list("status", flat=True)) == set(InquiryStatus.values)
    assert Evaluation.objects.exclude(decisions__isnull=False).exists()  # one waits for a decision
    assert EligibilityDecision.objects.filter(decision="not_eligible").exists()
    assert SafetyFlag.objects.filter(status="active").exists()

    today = Session.objects.filter(start__date=timezone.localdate())
    states = set(today.values_list("status", flat=True))
    assert states >= {"scheduled", "checked_in", "infusing", "recovery", "discharged", "signed"}
    infusing = today.get(status="infusing")
    assert SessionAlert.objects.filter(session=infusing, acknowledged_at__isnull=True).exists()
    infusion_numbers = sorted(
        Session.objects.filter(course=course, status="signed").count()
        for course in Course.objects.all()
    )
    assert len(set(infusion_numbers)) >= 4  # courses at different infusion numbers
    oldest_score = Administration.objects.order_by("administered_at").first()
    assert oldest_score is not None
    assert (timezone.now() - oldest_score.administered_at).days >= 90  # months of scores
    assert Receipt.objects.count() >= 2 and StockCount.objects.exists()
    assert LedgerEntry.objects.filter(kind="draw").exists()

    printed = out.getvalue()
    for username in ("ada", "ben", "eve", "cleo", "dana", "pat", "quinn"):
        assert f"  {username} " in printed
    for username in ("ada", "dana"):  # the roles that must use TOTP get a device and its secret
        device = TOTPDevice.objects.get(user__username=username)
        assert base64.b32encode(device.bin_key).decode() in printed
    emails = Patient.objects.values_list("email", flat=True)
    assert all(email.endswith("@example.org") for email in emails)
