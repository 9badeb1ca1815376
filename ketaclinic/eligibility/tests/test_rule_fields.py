"""The eligibility rules edited as a form: the pure helper that turns the rule set's thresholds
and lists into rows with their sources, and the administrator's page that saves a new version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import RuleSetVersion
from ketaclinic.eligibility.rules import ruleset_from_json
from ketaclinic.eligibility.rules.fields import (
    RuleField,
    rule_field_parse,
    rule_fields,
    rules_with,
    version_next,
)
from ketaclinic.testing import Clinic

FORM_URL = "/intake/rules/form/"
DEFAULTS = Path(__file__).resolve().parents[1] / "rules" / "data" / "default_rules.json"


def _defaults() -> Any:
    return json.loads(DEFAULTS.read_text(encoding="utf-8"))


def _field(fields: list[RuleField], code: str, label: str) -> tuple[int, RuleField]:
    return next((i, f) for i, f in enumerate(fields) if f.rule_code == code and f.label == label)


# -- the pure helper ---------------------------------------------------------------------------


def test_the_thresholds_and_lists_are_rows_with_their_rules_source() -> None:
    fields = rule_fields(_defaults())
    _, systolic = _field(fields, "bp_at_or_above_absolute_limit", "at or above · systolic (mmHg)")
    assert systolic.value == 180
    assert systolic.path == "8.condition.vitals_any_at_least.systolic"
    assert systolic.source.startswith("Oxford Health NHS ketamine service")
    _, names = _field(fields, "maoi_comedication", "medication names")
    assert names.is_list and isinstance(names.value, tuple) and "phenelzine" in names.value
    _, trials = _field(
        fields, "treatment_resistance_not_established", "fewer adequate treatment trials than"
    )
    assert trials.value == 2
    wording = _field(fields, "bp_at_or_above_absolute_limit", "wording shown in proposals")[1]
    assert wording.path == "8.description" and str(wording.value).startswith("Blood pressure")
    with pytest.raises(ValueError, match="must not be empty"):
        rule_field_parse(wording, "  ")
    # A contraindication code is not a value to edit.
    assert not [f for f in fields if f.rule_code == "pregnancy"]


def test_a_changed_value_makes_a_rule_set_the_engine_reads_and_leaves_the_original() -> None:
    data = _defaults()
    fields = rule_fields(data)
    _, systolic = _field(fields, "bp_at_or_above_absolute_limit", "at or above · systolic (mmHg)")
    _, names = _field(fields, "lamotrigine_comedication", "medication names")
    changed = rules_with(
        data, {systolic.path: 175, names.path: ("lamotrigine", "valproate")}, "2025.2"
    )
    assert changed["version"] == "2025.2"
    assert changed["rules"][8]["condition"]["vitals_any_at_least"]["systolic"] == 175
    assert changed["rules"][19]["condition"]["medication_name_in"] == ["lamotrigine", "valproate"]
    assert data == _defaults()
    assert ruleset_from_json(changed).version == "2025.2"


@pytest.mark.parametrize(
    ("label", "text", "message"),
    [
        ("at or above · systolic (mmHg)", "abc", "whole number"),
        ("at or above · systolic (mmHg)", "-5", "whole number"),
        ("at or above · systolic (mmHg)", "17.5", "whole number"),
        ("at or above · systolic (mmHg)", "", "whole number"),
    ],
)
def test_a_bad_number_is_refused_in_words(label: str, text: str, message: str) -> None:
    _, field = _field(rule_fields(_defaults()), "bp_at_or_above_absolute_limit", label)
    with pytest.raises(ValueError, match=message):
        rule_field_parse(field, text)


def test_a_list_is_read_from_commas_and_bad_lists_are_refused() -> None:
    _, field = _field(rule_fields(_defaults()), "lamotrigine_comedication", "medication names")
    assert rule_field_parse(field, " lamotrigine , valproate,") == ("lamotrigine", "valproate")
    for text, message in ((" , ", "at least one"), ("a, a", "twice"), ("<b>", "not a name")):
        with pytest.raises(ValueError, match=message):
            rule_field_parse(field, text)


def test_the_next_version_is_free() -> None:
    assert version_next("2025.1", set()) == "2025.2"
    assert version_next("2025.1", {"2025.2"}) == "2025.3"
    assert version_next("custom", set()) == "custom-2"


# -- the page ----------------------------------------------------------------------------------


def _form(clinic: Clinic) -> tuple[list[RuleField], dict[str, str]]:
    fields = rule_fields(RuleSetVersion.objects.get(active=True).rules_json)
    data = {
        f"v{i}": ", ".join(f.value) if isinstance(f.value, tuple) else str(f.value)
        for i, f in enumerate(fields)
    }
    return fields, data


def test_the_administrator_changes_a_threshold_and_a_new_version_is_in_use(
    clinic: Clinic,
) -> None:
    old = RuleSetVersion.objects.get(active=True)
    old_json = json.loads(json.dumps(old.rules_json))
    page = clinic.client("dana").get(FORM_URL)
    assert page.status_code == 200
    assert b"Oxford Health NHS ketamine service" in page.content
    assert b'value="2025.2"' in page.content

    fields, data = _form(clinic)
    index, _ = _field(fields, "bp_at_or_above_absolute_limit", "at or above · systolic (mmHg)")
    data[f"v{index}"] = "175"
    wording, _ = _field(fields, "bp_at_or_above_absolute_limit", "wording shown in proposals")
    data[f"v{wording}"] = "Blood pressure at evaluation at or above 175/110 mmHg."
    response = clinic.client("dana").post(
        FORM_URL, {**data, "version": "2025.2", "note": "Director's decision of 2026-12-01"}
    )
    assert response.status_code == 302

    new = RuleSetVersion.objects.get(active=True)
    assert new.version == "2025.2"
    assert new.created_by == clinic.users["dana"]
    assert new.rules_json["rules"][8]["condition"]["vitals_any_at_least"]["systolic"] == 175
    assert new.note == "Director's decision of 2026-12-01"
    assert new.rules_json["rules"][8]["description"] == (
        "Blood pressure at evaluation at or above 175/110 mmHg."
    )
    old.refresh_from_db()
    assert old.active is False and old.rules_json == old_json
    assert AuditEvent.objects.filter(object_type="RuleSetVersion", object_id=str(new.pk)).exists()


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"threshold": "one hundred"}, b"must be a whole number"),
        ({"version": "2025.1"}, b"2025.1 is already used"),
        ({"version": "no spaces please"}, b"letters, digits, dots or dashes"),
        ({}, b"Nothing was changed."),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(
    clinic: Clinic, change: dict[str, str], shown: bytes
) -> None:
    fields, data = _form(clinic)
    index, _ = _field(fields, "bp_at_or_above_absolute_limit", "at or above · systolic (mmHg)")
    if "threshold" in change:
        data[f"v{index}"] = change["threshold"]
    response = clinic.client("dana").post(
        FORM_URL, {**data, "version": change.get("version", "2025.2")}
    )
    assert response.status_code == 422
    assert shown in response.content
    assert b"Not saved" in response.content
    if "threshold" in change:
        assert f'aria-describedby="v{index}-error"'.encode() in response.content
    assert list(RuleSetVersion.objects.values_list("version", flat=True)) == ["2025.1"]


@pytest.mark.parametrize("username", ["ada", "ben", "cleo", "pat"])
def test_only_the_administrator_edits_the_rules(clinic: Clinic, username: str) -> None:
    _, data = _form(clinic)
    assert clinic.client(username).get(FORM_URL).status_code == 403
    response = clinic.client(username).post(FORM_URL, {**data, "version": "2025.2"})
    assert response.status_code == 403
    assert RuleSetVersion.objects.count() == 1


def test_the_setup_page_links_to_the_rules_and_consent_documents(clinic: Clinic) -> None:
    page = clinic.client("dana").get("/setup/")
    assert b'href="/intake/rules/form/"' in page.content
    assert b'href="/intake/consent-documents/"' in page.content
