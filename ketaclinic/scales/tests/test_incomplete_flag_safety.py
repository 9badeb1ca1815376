"""PHQ-9 item 9 flags "whatever the total" (scales.md), so also when the response is refused
as incomplete: on every path (pure scoring, staff form, JSON API, FHIR, public self-screen) the
flag is raised; where the clinic records answers it is opened in the patient's record,
attributed to the kept answers, audited and notified, and the refusal still lists the missing
items (422); the self-screen shows the crisis notice first.

The incomplete patterns are every non-empty subset of items 1-8 left out, with item 9 in 1..3.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.questionnaire import builtin_url
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.scales import instruments
from ketaclinic.scales.models import Administration, IncompleteResponse, Notification
from ketaclinic.scales.scoring import ResponseInvalid, score
from ketaclinic.testing import Clinic, make_patient

PHQ9 = instruments.get("phq9")
# The rule under test, read from the definition (data), then checked to be the one meant.
RULE = next(flag for flag in PHQ9.flags if flag.severity == "urgent")
assert (RULE.code, RULE.when.link_id, RULE.when.comparator, RULE.when.value) == (
    "suicide_risk",
    "9",
    ">",
    0,
)
OTHERS = [str(n) for n in range(1, 9)]
AT = "2026-01-05T09:30:00+01:00"
DB_EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

missing_sets = st.sets(st.sampled_from(OTHERS), min_size=1).map(lambda s: sorted(s, key=int))
item9_values = st.integers(min_value=1, max_value=3)
other_values = st.lists(st.integers(min_value=0, max_value=3), min_size=8, max_size=8)


def incomplete(missing: list[str], item9: int, values: list[int]) -> dict[str, int]:
    answers = {link_id: values[int(link_id) - 1] for link_id in OTHERS if link_id not in missing}
    answers["9"] = item9
    return answers


def test_every_incomplete_pattern_raises_the_flag_and_lists_the_missing_items() -> None:
    patterns = 0
    for size in range(1, 9):
        for missing in itertools.combinations(OTHERS, size):
            for item9 in (1, 2, 3):
                answers = incomplete(list(missing), item9, [(int(n) + item9) % 4 for n in OTHERS])
                with pytest.raises(ResponseInvalid) as refused:
                    score(PHQ9, answers)
                assert refused.value.missing == missing
                assert [(f.code, f.severity, f.link_id) for f in refused.value.flags] == [
                    ("suicide_risk", "urgent", "9")
                ]
                patterns += 1
    assert patterns == 255 * 3


@given(missing=missing_sets, values=other_values)
def test_item_9_at_0_or_missing_raises_no_flag_on_an_incomplete_response(
    missing: list[str], values: list[int]
) -> None:
    answers = incomplete(missing, 0, values)
    with pytest.raises(ResponseInvalid) as at_zero:
        score(PHQ9, answers)
    assert at_zero.value.flags == ()
    del answers["9"]
    with pytest.raises(ResponseInvalid) as without:
        score(PHQ9, answers)
    assert without.value.flags == ()
    assert without.value.missing == (*missing, "9")


def test_an_invalid_item_9_answer_raises_no_flag_but_a_valid_one_beside_other_errors_does() -> None:
    with pytest.raises(ResponseInvalid) as wrong:
        score(PHQ9, {"1": 1, "9": 7})
    assert wrong.value.flags == ()
    with pytest.raises(ResponseInvalid) as other_wrong:
        score(PHQ9, {"1": 9, "2": 1, "9": 2})
    assert [f.code for f in other_wrong.value.flags] == ["suicide_risk"]


# --- the paths that record answers: the flag is in the patient's record ---------------------


def _assert_flag_in_record(patient: Patient, missing: list[str]) -> None:
    flag = SafetyFlag.objects.get(patient=patient, code="suicide_risk", status=FlagStatus.ACTIVE)
    assert flag.severity == "urgent"
    assert "no total" in flag.title
    assert flag.source_object_type == "IncompleteResponse"
    kept = IncompleteResponse.objects.get(pk=flag.source_object_id)
    assert kept.patient_id == patient.pk
    assert kept.missing == missing
    assert kept.answers["9"] >= 1
    assert set(kept.answers) == {*OTHERS, "9"} - set(missing)
    assert not Administration.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        action="C", object_type="SafetyFlag", object_id=str(flag.pk), patient_id=patient.pk
    ).exists()
    assert AuditEvent.objects.filter(
        action="C", object_type="IncompleteResponse", object_id=str(kept.pk)
    ).exists()
    # The clinicians are told exactly as for a complete response, the total missing noted.
    texts = list(Notification.objects.filter(link__contains=str(patient.pk)).values_list("text"))
    assert texts and all("no total" in text for (text,) in texts)


@DB_EXAMPLES
@given(missing=missing_sets, item9=item9_values, values=other_values)
def test_staff_form_refuses_the_incomplete_phq9_but_opens_the_flag(
    clinic: Clinic,
    django_capture_on_commit_callbacks: Callable[..., Any],
    missing: list[str],
    item9: int,
    values: list[int],
) -> None:
    patient = make_patient()
    answers = incomplete(missing, item9, values)
    data = {f"phq9-{link_id}": str(value) for link_id, value in answers.items()}
    data["administered_at"] = "2026-01-05T09:30"
    with django_capture_on_commit_callbacks(execute=True):
        response = clinic.client("ben").post(f"/scales/patients/{patient.pk}/enter/phq9/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count("Please answer this question.") == len(missing)
    assert "raised an urgent safety flag" in html
    items = ", ".join(missing)
    until = f"item {items} is" if len(missing) == 1 else f"items {items} are"
    assert f"the total is missing until {until} answered" in html
    _assert_flag_in_record(patient, missing)


@DB_EXAMPLES
@given(missing=missing_sets, item9=item9_values, values=other_values)
def test_json_api_refuses_the_incomplete_phq9_but_opens_the_flag(
    clinic: Clinic,
    django_capture_on_commit_callbacks: Callable[..., Any],
    missing: list[str],
    item9: int,
    values: list[int],
) -> None:
    patient = make_patient()
    body = {
        "instrument": "phq9",
        "answers": incomplete(missing, item9, values),
        "administered_at": AT,
        "mode": "staff_entry",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = clinic.api("ben").post(
            f"/api/v1/patients/{patient.pk}/administrations",
            data=json.dumps(body),
            content_type="application/json",
        )
    assert response.status_code == 422, response.content
    problems = response.json()["detail"]
    assert sorted(p["field"] for p in problems if p["type"] == "missing") == [
        f"answers.{link_id}" for link_id in missing
    ]
    assert [p["field"] for p in problems if p["type"] == "flag_raised"] == ["flags"]
    _assert_flag_in_record(patient, missing)


@DB_EXAMPLES
@given(missing=missing_sets, item9=item9_values, values=other_values)
def test_fhir_refuses_the_incomplete_phq9_but_opens_the_flag(
    clinic: Clinic,
    django_capture_on_commit_callbacks: Callable[..., Any],
    missing: list[str],
    item9: int,
    values: list[int],
) -> None:
    patient = make_patient()
    answers = incomplete(missing, item9, values)
    body = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": builtin_url("phq9"),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.pk}"},
        "authored": AT,
        "item": [
            {"linkId": link_id, "answer": [{"valueInteger": value}]}
            for link_id, value in answers.items()
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = clinic.api("ben").post(
            "/fhir/R4/QuestionnaireResponse",
            data=json.dumps(body),
            content_type="application/fhir+json",
        )
    assert response.status_code == 422, response.content
    found = response.json()["issue"]
    assert sorted(i["expression"][0] for i in found if i["code"] == "required") == [
        f"QuestionnaireResponse.item.where(linkId='{link_id}')" for link_id in missing
    ]
    assert [i["severity"] for i in found if "urgent safety flag" in i["diagnostics"]] == ["warning"]
    _assert_flag_in_record(patient, missing)


def test_a_complete_phq9_after_the_incomplete_one_opens_no_second_flag(clinic: Clinic) -> None:
    body = {"instrument": "phq9", "administered_at": AT, "mode": "staff_entry"}
    url = f"/api/v1/patients/{clinic.pat.pk}/administrations"
    client = clinic.api("ben")
    first = client.post(
        url,
        data=json.dumps(body | {"answers": {"1": 1, "9": 2}}),
        content_type="application/json",
    )
    assert first.status_code == 422
    complete = {link_id: 1 for link_id in PHQ9.link_ids}
    second = client.post(
        url, data=json.dumps(body | {"answers": complete}), content_type="application/json"
    )
    assert second.status_code == 201
    assert SafetyFlag.objects.filter(patient=clinic.pat, code="suicide_risk").count() == 1


def test_an_incomplete_phq9_without_item_9_stores_nothing(clinic: Clinic) -> None:
    response = clinic.api("ben").post(
        f"/api/v1/patients/{clinic.pat.pk}/administrations",
        data=json.dumps({"instrument": "phq9", "answers": {"1": 3, "9": 0}, "administered_at": AT}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert not IncompleteResponse.objects.exists()
    assert not SafetyFlag.objects.exists()


# --- the public self-screen: stores nothing, shows the crisis notice first -------------------


@settings(max_examples=40, deadline=None)
@given(missing=missing_sets, item9=item9_values, values=other_values)
@pytest.mark.django_db
def test_incomplete_self_screen_shows_the_crisis_notice_first_and_stores_nothing(
    missing: list[str], item9: int, values: list[int]
) -> None:
    answers = incomplete(missing, item9, values)
    data: dict[str, Any] = {"step": "answer", "instruments": ["phq9"]}
    data |= {f"phq9-{link_id}": str(value) for link_id, value in answers.items()}
    response = Client().post("/clinic/self-screen/", data)
    assert response.status_code == 200
    html = response.content.decode()
    main = html[html.index("<main") :]
    assert main.index('class="crisis-urgent"') < main.index("Some questions need an answer")
    assert 'class="crisis-notice"' not in html  # the urgent block replaces the general one
    assert 'href="tel:988"' in main
    assert html.count('<li><a href="#phq9-item-') == len(missing)
    assert not SafetyFlag.objects.exists()
    assert not IncompleteResponse.objects.exists()


@pytest.mark.django_db
def test_incomplete_self_screen_without_item_9_shows_the_general_notice_only() -> None:
    data = {"step": "answer", "instruments": ["phq9"], "phq9-1": "3", "phq9-9": "0"}
    html = Client().post("/clinic/self-screen/", data).content.decode()
    assert 'class="crisis-urgent"' not in html
    assert 'class="crisis-notice"' in html


@pytest.mark.parametrize(("missing", "item9"), [(["8"], 3), (OTHERS, 1)])
def test_questionnaire_link_refuses_the_incomplete_phq9_but_opens_the_flag(
    clinic: Clinic,
    django_capture_on_commit_callbacks: Callable[..., Any],
    missing: list[str],
    item9: int,
) -> None:
    made = clinic.client("ben").post(
        f"/scales/patients/{clinic.pat.pk}/links/", {"instruments": ["phq9"], "hours": 72}
    )
    url = made.content.decode().split('value="http://testserver', 1)[1].split('"', 1)[0]
    answers = incomplete(missing, item9, [2] * 8)
    phone = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = phone.post(url, {f"phq9-{k}": str(v) for k, v in answers.items()})
    assert response.status_code == 422
    _assert_flag_in_record(clinic.pat, missing)
    # The link stays usable: the patient can complete it, and no second flag is opened.
    complete = {f"phq9-{n}": "1" for n in PHQ9.link_ids}
    assert phone.post(url, complete).status_code == 200
    assert SafetyFlag.objects.filter(patient=clinic.pat).count() == 1
    assert Administration.objects.filter(patient=clinic.pat).count() == 1
