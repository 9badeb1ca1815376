"""The patient record leads with a summary: allergies, weight, course progress ("infusion 2 of
6"), the next session, the latest scores with their trend, and links to everything about the
patient; the demographics come after."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.courses.models import Protocol
from ketaclinic.courses.tests.conftest import shipped_rows_ensure
from ketaclinic.eligibility.tests.eligibility_helpers import decision_make
from ketaclinic.eligibility.tests.eligibility_helpers import (
    shipped_rows_ensure as rules_ensure,
)
from ketaclinic.infusions.protocols import IV_RACEMIC_0_5_MG_KG_40_MIN
from ketaclinic.outcomes.services import outcomes_current
from ketaclinic.patients.tests.test_patient_list_status import _with_history
from ketaclinic.scales.models import Administration
from ketaclinic.testing import Clinic


def _score(clinic: Clinic, total: int, days_ago: int) -> None:
    Administration.objects.create(
        patient=clinic.pat,
        instrument="gad7",
        answers={},
        total=total,
        administered_at=timezone.now() - timedelta(days=days_ago),
        entered_by=clinic.users["ben"],
        mode="staff_entry",
    )


def test_the_record_leads_with_the_summary_and_links(clinic: Clinic) -> None:
    shipped_rows_ensure()
    rules_ensure()
    decision_make(clinic)  # the evaluation records allergies: penicillin
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    _with_history(clinic, clinic.pat, 2, protocol)
    _score(clinic, 15, 20)
    _score(clinic, 9, 2)

    html = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert html.index("Summary") < html.index("Demographics and contact")
    assert "<strong>penicillin</strong>" in html
    assert "Induction: infusion 2 of 6 given" in html
    assert "GAD7 9" in html and "↓" in html and "from 15" in html
    for link in ("Rating scales", "Score trends", "Evaluations", "Consents", "Course and sessions"):
        assert f">{link}</a>" in html, link
    assert "Who read or changed this record" not in html  # the audit trail is the admin's
    admin = clinic.client("dana").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert f'href="/audit/?patient={clinic.pat.pk}"' in admin


def test_the_summary_queries_do_not_grow_with_the_history(clinic: Clinic) -> None:
    shipped_rows_ensure()
    protocol = Protocol.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    _with_history(clinic, clinic.pat, 1, protocol)
    _score(clinic, 10, 1)
    client = clinic.client("ben")
    client.get(f"/patients/{clinic.pat.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/patients/{clinic.pat.pk}/")
    for n in range(10):
        _score(clinic, 10 + n, 3 + n)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/patients/{clinic.pat.pk}/")
    assert len(many) == len(few)
    # The whole request, pinned (the audit writes: one statement each on PostgreSQL; the
    # portal card: the patient's account, last invitation and last contact change).
    # +1: the unread-message count in the staff navigation (ketaclinic/messaging/); +2: the
    # care plan's card (its signed version) and the letters' card (referrals and letters).
    # +1: the outcomes card's check that the kept outcome rows are current for the patient
    # (they are not: new scores since), before computing it from the source rows.
    assert len(few) == {"sqlite": 26, "postgresql": 24}[connection.vendor], len(few)
    # Once the rows are recomputed (the outcomes page, the nightly job), the card reads them
    # instead of the three source reads, however long the history: the rows, and (PHQ-9 was
    # never given here, so its row alone cannot say) which instruments the patient has scores on.
    outcomes_current()
    with CaptureQueriesContext(connection) as kept:
        client.get(f"/patients/{clinic.pat.pk}/")
    assert len(kept) == len(few) - 1, [q["sql"][:80] for q in kept.captured_queries]
    for n in range(5):
        _score(clinic, 5 + n, 13 + n)
    outcomes_current()
    with CaptureQueriesContext(connection) as kept_more:
        client.get(f"/patients/{clinic.pat.pk}/")
    assert len(kept_more) == len(kept)
