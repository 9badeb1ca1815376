from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from ketaclinic.accounts.models import User
from ketaclinic.audit.services import audit_verify
from ketaclinic.patients.models import Patient


def test_demo_creates_every_role_and_fifty_patients_idempotently(db: None) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    assert Patient.objects.count() == 50
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"admin", "clinician", "nurse", "intake", "patient"}
    printed = out.getvalue()
    for username in ("ada", "ben", "cleo", "dana", "pat", "quinn"):
        assert f"  {username} " in printed
    call_command("demo", stdout=StringIO())
    assert Patient.objects.count() == 50
    assert User.objects.count() == 6
    pat = User.objects.get(username="pat")
    assert pat.patient is not None
    assert audit_verify() is None
    # synthetic: every e-mail is on a reserved example domain
    emails = Patient.objects.values_list("email", flat=True)
    assert all(email.endswith("@example.org") for email in emails)
