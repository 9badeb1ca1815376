"""The demo's threads: one unread by the patient, one assigned, one urgent; idempotent."""

from __future__ import annotations

from ketaclinic.messaging import selectors
from ketaclinic.messaging.demo import messages_ensure
from ketaclinic.messaging.models import Thread
from ketaclinic.messaging.selectors import InboxView
from ketaclinic.patients.models import SafetyFlag
from ketaclinic.testing import Clinic


def test_the_demo_threads_are_made_once(clinic: Clinic) -> None:
    ben, cleo = clinic.users["ben"], clinic.users["cleo"]
    assert messages_ensure(nurse=ben, intake=cleo) == 3
    assert messages_ensure(nurse=ben, intake=cleo) == 0
    assert Thread.objects.count() == 3
    assert selectors.unread_total(clinic.users["pat"]) == 1
    urgent = selectors.inbox(ben, InboxView.URGENT)
    assert [t.patient_id for t in urgent] == [clinic.quinn.pk]
    assert SafetyFlag.objects.filter(patient=clinic.quinn, code="message-urgent").exists()
    assert len(selectors.inbox(cleo, InboxView.MINE)) == 1
