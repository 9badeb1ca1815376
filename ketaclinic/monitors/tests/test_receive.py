"""Taking messages: routing to the session in the monitor's chair, the unassigned queue,
exactly-once charting of resent messages, refusals kept raw, the nurse's confirmation,
artefacts, the signing gate, the pre-dose hold and the printed record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import hl7
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions import services as chart
from ketaclinic.infusions.models import Session, SessionAlert, VitalsReading
from ketaclinic.infusions.snapshot import session_snapshot
from ketaclinic.monitors.models import MessageStatus, MonitorMessage
from ketaclinic.monitors.services import (
    Received,
    message_assign,
    message_dismiss,
    message_receive,
)
from ketaclinic.monitors.tests.conftest import device_on, message, session_in
from ketaclinic.testing import Clinic

pytestmark = pytest.mark.django_db


def _stored(received: Received) -> MonitorMessage:
    assert received.message_id is not None
    return MonitorMessage.objects.get(pk=received.message_id)


def _msa(ack: bytes) -> tuple[str, str]:
    parsed = hl7.parse(ack.decode())
    return str(parsed.segment("MSA")[1]), str(parsed.segment("MSA")[2])


def test_an_spo2_of_90_is_charted_from_the_monitor_and_raises_the_stop_alert(
    clinic: Clinic, infusing: Session
) -> None:
    device_on()
    received = message_receive(message(spo2=90, control="A1"))
    assert _msa(received.ack) == ("AA", "A1")
    assert received.status == MessageStatus.CHARTED
    rows = list(VitalsReading.objects.filter(session=infusing).order_by("at"))
    assert [r.source for r in rows] == ["monitor", "monitor"]
    cuff, periodic = rows
    assert (cuff.systolic_mmhg, cuff.diastolic_mmhg, cuff.spo2_percent) == (118, 76, None)
    assert (periodic.spo2_percent, periodic.heart_rate_bpm, periodic.systolic_mmhg) == (
        90,
        72,
        None,
    )
    assert periodic.at - cuff.at == timedelta(minutes=3)  # the cuff at its own time (OBX-14)
    assert all(r.awaiting_confirmation for r in rows)
    alert = SessionAlert.objects.get(session=infusing)
    assert (alert.code, alert.recommended_action, alert.value) == ("spo2_low", "stop", 90)
    stored = _stored(received)
    assert stored.raw.startswith("MSH|") and stored.session_id == infusing.pk
    assert stored.parse_result["readings"]
    assert AuditEvent.objects.filter(object_type="VitalsReading", actor_id=None).count() == 2


def test_a_resent_message_is_charted_once_and_the_repeated_cuff_once(
    clinic: Clinic, infusing: Session
) -> None:
    device_on()
    now = timezone.now()
    first = message(control="R1", now=now)
    message_receive(first)
    assert _msa(message_receive(first).ack)[0] == "AA"  # the monitor missed our ACK
    assert VitalsReading.objects.filter(session=infusing).count() == 2
    # The next periodic message carries the same cuff (same OBX-14): only its periodic set.
    message_receive(message(control="R2", now=now + timedelta(minutes=1), cuff_minutes_ago=4))
    assert VitalsReading.objects.filter(session=infusing).count() == 3
    assert MonitorMessage.objects.count() == 3  # every message kept, raw


def test_philips_and_quirky_vendor_messages_are_charted(clinic: Clinic, infusing: Session) -> None:
    from ketaclinic.monitors.feed import samples

    device_on(device_id=samples.PHILIPS_DEVICE)
    assert message_receive(message("philips", control="P1")).status == MessageStatus.CHARTED
    values = VitalsReading.objects.filter(session=infusing).values_list(
        "heart_rate_bpm", "spo2_percent", "systolic_mmhg"
    )
    assert sorted(values, key=str) == sorted([(72, 97, None), (None, None, 118)], key=str)


def test_implausible_values_are_not_charted_and_the_rest_is(
    clinic: Clinic, infusing: Session
) -> None:
    device_on()
    received = message_receive(message(control="I1", hr=300))
    stored = _stored(received)
    assert any("heart_rate_bpm 300" in d for d in stored.parse_result["dropped"])
    periodic = VitalsReading.objects.filter(session=infusing, spo2_percent__isnull=False).get()
    assert periodic.heart_rate_bpm is None and periodic.spo2_percent == 97


def test_an_unregistered_monitor_goes_to_the_queue_and_a_nurse_assigns_it(
    clinic: Clinic, infusing: Session
) -> None:
    received = message_receive(message(control="U1", spo2=91))
    assert _msa(received.ack)[0] == "AA"  # kept: acknowledged, never dropped
    queued = _stored(received)
    assert queued.status == MessageStatus.UNASSIGNED
    assert "not registered" in queued.reason
    assert not VitalsReading.objects.exists()
    assert message_assign(acting_user=clinic.users["ben"], message=queued, session=infusing) == 2
    queued.refresh_from_db()
    assert queued.status == MessageStatus.ASSIGNED and queued.assigned_by == clinic.users["ben"]
    assert SessionAlert.objects.filter(session=infusing, code="spo2_low").exists()
    with pytest.raises(ValidationError):
        message_assign(acting_user=clinic.users["ben"], message=queued, session=infusing)


def test_no_session_in_the_chair_queues_the_message(clinic: Clinic) -> None:
    device_on()
    received = message_receive(message(control="N1"))
    queued = _stored(received)
    assert queued.status == MessageStatus.UNASSIGNED
    assert "no session" in queued.reason
    message_dismiss(acting_user=clinic.users["ben"], message=queued, reason="monitor left on")
    queued.refresh_from_db()
    assert queued.status == MessageStatus.DISMISSED


def test_a_discharged_session_is_not_charted_to(clinic: Clinic) -> None:
    session_in(clinic, status="discharged")
    device_on()
    assert message_receive(message(control="D1")).status == MessageStatus.UNASSIGNED


def test_refused_and_waveform_messages_are_kept_raw(clinic: Clinic) -> None:
    refused = message_receive(b"MSH|^~\\&|X|Y|||20261202||ADT^A01|Q1|P|2.6\r")
    assert _msa(refused.ack) == ("AR", "Q1")
    row = _stored(refused)
    assert row.status == MessageStatus.REFUSED and "ADT^A01" in row.reason
    waveform = message_receive(message("waveform", control="W1"))
    assert _msa(waveform.ack) == ("AA", "W1")
    assert _stored(waveform).status == MessageStatus.SKIPPED


def test_the_nurse_confirms_the_batch_and_marks_an_artefact(
    clinic: Clinic, infusing: Session
) -> None:
    device_on()
    message_receive(message(control="C1"))
    cuff = VitalsReading.objects.filter(session=infusing, systolic_mmhg__isnull=False).get()
    problems = chart.monitor_awaiting_problems(infusing)
    assert problems and "2 reading(s)" in problems[0]
    with pytest.raises(ValidationError):
        chart.vitals_mark_artefact(
            acting_user=clinic.users["ben"], session=infusing, reading_id=cuff.pk, reason=" "
        )
    chart.vitals_mark_artefact(
        acting_user=clinic.users["ben"], session=infusing, reading_id=cuff.pk, reason="arm moving"
    )
    assert chart.vitals_confirm_monitor(acting_user=clinic.users["ben"], session=infusing) == 1
    assert chart.monitor_awaiting_problems(infusing) == []
    snapshot = session_snapshot(infusing)
    assert [v["source"] for v in snapshot["vitals"]] == ["monitor"]
    assert snapshot["vitals"][0]["confirmed_by"]
    assert snapshot["vitals_artefacts"][0]["reason"] == "arm moving"


def test_the_pre_dose_hold_uses_the_monitor_baseline(clinic: Clinic) -> None:
    session = session_in(clinic, status="checked_in")
    device_on()
    message_receive(message(control="B1", sys=150, dia=85))
    state = chart.predose_hold_state(session, protocol=chart.session_protocol(session))
    assert state.baseline is not None and state.baseline.source == "monitor"
    assert state.decision is not None and state.hold
    assert [a.code for a in state.decision.alerts] == ["predose_sbp_high"]
    assert state.decision.missing == ()  # the cuff and the periodic set make one baseline


def test_auto_confirm_after_the_protocol_time(
    clinic: Clinic, infusing: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from ketaclinic.infusions.protocols import Sourced
    from ketaclinic.infusions.services import monitor_feed

    device_on()
    message_receive(message(control="AC1"))
    assert chart.vitals_autoconfirm_due() == 0  # the shipped protocols never auto-confirm
    real = monitor_feed.protocol_definition  # type: ignore[attr-defined]

    def with_autoconfirm(protocol_id: int) -> object:
        protocol = real(protocol_id)
        rules = dataclasses.replace(
            protocol.monitoring, monitor_autoconfirm_minutes=Sourced(10, "clinic choice")
        )
        return dataclasses.replace(protocol, monitoring=rules)

    monkeypatch.setattr(monitor_feed, "protocol_definition", with_autoconfirm)
    assert chart.vitals_autoconfirm_due() == 0  # not yet ten minutes
    later = timezone.now() + timedelta(minutes=11)
    assert chart.vitals_autoconfirm_due(now=later) == 2
    assert not VitalsReading.objects.filter(confirmed_at__isnull=True).exists()
    assert not VitalsReading.objects.filter(confirmed_by__isnull=False).exists()


def _batch(size: int, first: int) -> list[bytes]:
    return [message(control=f"BT{first + n}", spo2=90 if n == 0 else 97) for n in range(size)] + [
        b"not hl7",
        message(control=f"BT{first}"),
    ]  # a refusal; a resend inside the batch


def test_a_batch_is_charted_with_a_fixed_number_of_queries(
    clinic: Clinic, infusing: Session, django_assert_max_num_queries: Any
) -> None:
    from ketaclinic.monitors.services import messages_receive

    device_on()
    other = session_in(clinic, chair="Chair 2")
    device_on("Chair 2", "00A0C8FFFE3C0002")
    messages_receive(_batch(2, 0))  # warm the caches (protocol definitions)
    with django_assert_max_num_queries(20):
        small = messages_receive(_batch(2, 100))
    with django_assert_max_num_queries(20):
        chair_2 = message(control="C2-1").replace(b"00A0C8FFFE3C0001", b"00A0C8FFFE3C0002")
        large = messages_receive([*_batch(30, 200), chair_2])
    assert [r.ack_code for r in small] == ["AA", "AA", "AR", "AA"]
    assert [r.status for r in large[-3:]] == ["refused", "charted", "charted"]
    assert large[-2].readings == 0  # the resend: charted once
    keys = list(VitalsReading.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    assert VitalsReading.objects.filter(session=other).count() == 2
    assert SessionAlert.objects.filter(session=infusing, code="spo2_low").count() == 3


def test_a_resent_unassigned_message_is_queued_once(clinic: Clinic) -> None:
    first = message(control="RQ1")
    assert message_receive(first).status == MessageStatus.UNASSIGNED
    again = message_receive(first)
    assert _msa(again.ack)[0] == "AA"
    assert again.status == MessageStatus.NOTHING
    assert "a resend of message" in _stored(again).reason  # the first copy, by number
    assert MonitorMessage.objects.filter(status=MessageStatus.UNASSIGNED).count() == 1


def test_every_reading_of_a_batch_is_named_in_the_audit_trail_in_its_transaction(
    clinic: Clinic, infusing: Session
) -> None:
    from ketaclinic.audit.verify import audit_verify
    from ketaclinic.monitors.services import message_read, messages_receive

    device_on()
    other = session_in(clinic, chair="Chair 2")
    device_on("Chair 2", "00A0C8FFFE3C0002")
    chair_2 = message(control="AU-2").replace(b"00A0C8FFFE3C0001", b"00A0C8FFFE3C0002")
    read = [message_read(raw) for raw in _batch(5, 300)]  # as the listener does, on arrival
    results = messages_receive([*read, chair_2])
    assert [r.ack_code for r in results] == ["AA"] * 5 + ["AR", "AA", "AA"]
    readings = VitalsReading.objects.filter(session__in=[infusing, other])
    # Each message's periodic set; the cuff (the same in every message of a monitor) once.
    assert readings.count() == 5 + 1 + 1 + 1
    named = AuditEvent.objects.filter(object_type="VitalsReading", action="C", actor_id=None)
    assert sorted(named.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in readings.values_list("pk", flat=True)
    )
    assert set(named.values_list("patient_id", flat=True)) == {
        infusing.course.patient_id,
        other.course.patient_id,
    }
    assert audit_verify() is None


def test_a_batch_keeps_each_parse_result_and_answers_with_ids_of_its_own(
    clinic: Clinic, infusing: Session
) -> None:
    """Each message of a batch is kept with its parse result as JSON text that reads back
    as the parse (`parsed_from_json`), with what charting made of it; each ACK has a control
    id of its own (the batch's time, then the message's place in it)."""
    from ketaclinic.monitors.feed.parse import parse_message, parsed_from_json
    from ketaclinic.monitors.services import messages_receive

    device_on()
    raws = _batch(4, 400)
    results = messages_receive(raws)
    ours = [str(hl7.parse(r.ack.decode()).segment("MSH")[10]) for r in results]
    assert len(set(ours)) == len(ours) and all(o.startswith("K") for o in ours)
    assert [r.status for r in results] == ["charted"] * 4 + ["refused", "charted"]
    for raw, result in zip(raws, results, strict=True):
        stored = _stored(result)
        assert isinstance(stored.parse_json, str)
        kept = stored.parse_result
        if result.status == "refused":
            assert kept == {} and stored.raw == raw.decode()
            continue
        # The cuff repeats in every message of a monitor: charted from the first only.
        assert kept.pop("duplicates") == (0 if raw == raws[0] else 1 if raw != raws[-1] else 2)
        assert kept.pop("dropped") == []
        parsed = parse_message(raw, default_tz=timezone.get_default_timezone())
        assert parsed_from_json(kept) == parsed


def test_a_parser_failure_is_answered_ae_and_kept(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketaclinic.monitors import services

    def broken(raw: bytes, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "parse_message", broken)
    received = services.messages_receive([message(control="PF1")])[0]
    assert _msa(received.ack) == ("AE", "PF1")  # send again (after a fix), never AA
    stored = _stored(received)
    assert (stored.status, stored.ack_code) == (MessageStatus.REFUSED, "AE")
    assert "RuntimeError" in stored.reason


@pytest.mark.parametrize("sample", ["ge", "philips", "sentinels", "vendor", "waveform"])
def test_the_kept_parse_result_is_the_json_the_json_module_writes(sample: str) -> None:
    """The parse result's text (orjson, issue 17) holds what the json module's text holds:
    readings and ignored rows (named tuples) as arrays, non-ASCII text as it is."""
    import json

    from ketaclinic.monitors.feed import samples
    from ketaclinic.monitors.feed.parse import parse_message, parsed_from_json
    from ketaclinic.monitors.services import _json_text

    now = timezone.now()
    raw = samples.render(
        samples.SAMPLES[sample], now=now, nibp=now, control="C-1", facility="Klinik Süd \u2013 Ω"
    ).encode()
    result = parse_message(raw).as_json() | {"duplicates": 0, "dropped": ["12:00:00 Ω"]}
    text = _json_text(result)
    assert json.loads(text) == json.loads(json.dumps(result))
    assert "Süd \u2013 Ω" in text
    assert parsed_from_json(json.loads(text)) == parse_message(raw)
