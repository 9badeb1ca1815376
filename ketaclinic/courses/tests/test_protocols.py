from __future__ import annotations

import json
from typing import Any

from ketaclinic.audit.models import AuditEvent
from ketaclinic.courses.models import Course, Protocol
from ketaclinic.testing import Clinic


def _edited(protocol: Protocol, **changes: Any) -> str:
    data = json.loads(protocol.definition_json)
    data.update(changes)
    return json.dumps(data, indent=2)


def _post_version(
    clinic: Clinic, protocol: Protocol, text: str, source: str = "Director, 2026"
) -> Any:
    return clinic.client("dana").post(
        f"/courses/protocols/{protocol.pk}/new-version/",
        {"definition_json": text, "source": source},
    )


def test_staff_list_the_active_protocols_with_their_dose_and_version(
    clinic: Clinic, iv_protocol: Protocol
) -> None:
    response = clinic.api("ben").get("/api/v1/protocols")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert len(rows) == Protocol.objects.filter(active=True).count() == 3
    iv = rows[iv_protocol.pk]
    assert iv == {
        "id": iv_protocol.pk,
        "code": "iv-racemic-ketamine-0.5-mg-kg-40-min",
        "name": "IV racemic ketamine 0.5 mg/kg over 40 minutes",
        "medication": "racemic ketamine",
        "route": "IV",
        "mg_per_kg": 0.5,
        "fixed_dose_mg": None,
        "infusion_minutes": 40,
        "max_dose_mg": 50.0,
        "version": 1,
    }


def test_patients_and_strangers_cannot_list_protocols(clinic: Clinic) -> None:
    assert clinic.api("pat").get("/api/v1/protocols").status_code == 403
    assert clinic.client(None).get("/api/v1/protocols").status_code == 401


def test_an_edit_is_a_new_version_and_old_courses_keep_theirs(
    clinic: Clinic, iv_protocol: Protocol, course: Course
) -> None:
    audit_before = AuditEvent.objects.filter(object_type="Protocol").count()
    response = _post_version(clinic, iv_protocol, _edited(iv_protocol, title="IV ketamine, v2"))
    assert response.status_code == 302
    v2 = Protocol.objects.get(code=iv_protocol.code, version=2)
    assert response["Location"] == f"/courses/protocols/{v2.pk}/"
    assert v2.active and v2.name == "IV ketamine, v2" and v2.created_by == clinic.users["dana"]
    assert v2.source == "Director, 2026"
    iv_protocol.refresh_from_db()
    assert not iv_protocol.active
    assert iv_protocol.name == "IV racemic ketamine 0.5 mg/kg over 40 minutes"
    course.refresh_from_db()
    assert course.protocol_id == iv_protocol.pk
    listed = [row["id"] for row in clinic.api("ada").get("/api/v1/protocols").json()]
    assert v2.pk in listed and iv_protocol.pk not in listed
    assert AuditEvent.objects.filter(object_type="Protocol").count() == audit_before + 1
    event = AuditEvent.objects.filter(object_type="Protocol").order_by("-seq").first()
    assert event is not None and event.action == "C" and event.object_id == str(v2.pk)
    # A third version numbers on from the second, editing either.
    _post_version(clinic, iv_protocol, _edited(iv_protocol, title="IV ketamine, v3"))
    assert Protocol.objects.get(code=iv_protocol.code, active=True).version == 3


def test_a_protocol_with_a_wrong_value_is_refused_with_its_path_and_nothing_stored(
    clinic: Clinic, iv_protocol: Protocol
) -> None:
    data = json.loads(iv_protocol.definition_json)
    del data["dosing"]["amount"]["source"]
    events = AuditEvent.objects.count()
    response = _post_version(clinic, iv_protocol, json.dumps(data))
    assert response.status_code == 200
    assert "protocol.dosing.amount: missing source" in response.content.decode()
    assert Protocol.objects.filter(code=iv_protocol.code).count() == 1
    assert AuditEvent.objects.count() == events
    iv_protocol.refresh_from_db()
    assert iv_protocol.active


def test_text_that_is_not_json_is_refused(clinic: Clinic, iv_protocol: Protocol) -> None:
    response = _post_version(clinic, iv_protocol, '{"code": ')
    assert response.status_code == 200
    assert "protocol: not valid JSON" in response.content.decode()
    assert Protocol.objects.filter(code=iv_protocol.code).count() == 1


def test_a_version_cannot_change_the_protocol_code(clinic: Clinic, iv_protocol: Protocol) -> None:
    response = _post_version(clinic, iv_protocol, _edited(iv_protocol, code="something-else"))
    assert "protocol.code: must stay" in response.content.decode()
    assert not Protocol.objects.filter(code="something-else").exists()


def test_a_version_needs_a_source(clinic: Clinic, iv_protocol: Protocol) -> None:
    response = _post_version(clinic, iv_protocol, iv_protocol.definition_json, source=" ")
    assert response.status_code == 200
    assert Protocol.objects.filter(code=iv_protocol.code).count() == 1


def test_only_administrators_edit_protocols(clinic: Clinic, iv_protocol: Protocol) -> None:
    url = f"/courses/protocols/{iv_protocol.pk}/new-version/"
    for username in ("ada", "ben", "cleo"):
        client = clinic.client(username)
        assert client.get(url).status_code == 403
        body = {"definition_json": iv_protocol.definition_json, "source": "x"}
        assert client.post(url, body).status_code == 403
    page = clinic.client("dana").get(url)
    assert page.status_code == 200
    assert "textarea" in page.content.decode()
    assert Protocol.objects.filter(code=iv_protocol.code).count() == 1


def test_the_protocol_page_shows_versions_and_the_definition(
    clinic: Clinic, iv_protocol: Protocol
) -> None:
    page = clinic.client("ben").get(f"/courses/protocols/{iv_protocol.pk}/").content.decode()
    assert "Version 1" in page and "Murrough 2013" in page
    assert "Edit as a new version" not in page
    assert clinic.client("pat").get(f"/courses/protocols/{iv_protocol.pk}/").status_code == 403
    assert clinic.client("ben").get("/courses/protocols/999999/").status_code == 404


def test_staff_navigation_links_the_schedule_and_protocols(clinic: Clinic) -> None:
    staff_page = clinic.client("cleo").get("/patients/").content.decode()
    assert 'href="/courses/schedule/"' in staff_page
    assert 'href="/courses/protocols/"' in staff_page
    patient_page = clinic.client("pat").get("/patients/").content.decode()
    assert "/courses/schedule/" not in patient_page
    assert "/courses/protocols/" not in patient_page
