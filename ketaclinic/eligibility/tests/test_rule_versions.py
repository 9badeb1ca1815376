"""The administrator edits the rules as a new version; proposals already made keep theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.eligibility.models import Evaluation, RuleSetVersion
from ketaclinic.eligibility.tests.eligibility_helpers import (
    GLAUCOMA_EVALUATION,
    evaluation_make,
)
from ketaclinic.testing import Clinic

RULES_URL = "/intake/rules/"


def _edited_rules(version: str = "2026.1") -> dict[str, Any]:
    """The active rules with glaucoma made absolute and reworded."""
    rules: dict[str, Any] = json.loads(
        json.dumps(RuleSetVersion.objects.get(active=True).rules_json)
    )
    rules["version"] = version
    for rule in rules["rules"]:
        if rule["code"] == "glaucoma":
            rule["kind"] = "absolute_contraindication"
            rule["description"] = "Glaucoma (any kind): refer to ophthalmology first."
            rule["source"] = "Medical director, 2026-01-05"
    return rules


def _post_rules(clinic: Clinic, username: str, text: str, note: str = "Director's decision") -> Any:
    return clinic.client(username).post(RULES_URL, {"rules_json": text, "note": note})


def test_an_admin_edit_makes_a_new_active_version_and_old_proposals_keep_theirs(
    clinic: Clinic,
) -> None:
    before = evaluation_make(clinic, data=GLAUCOMA_EVALUATION)
    old_reasons = before.proposal_json["reasons"]
    assert before.outcome == "needs_review"

    page = clinic.client("dana").get(RULES_URL)
    assert page.status_code == 200
    assert b"2025.1" in page.content
    response = _post_rules(clinic, "dana", json.dumps(_edited_rules()))
    assert response.status_code == 302

    new = RuleSetVersion.objects.get(active=True)
    assert new.version == "2026.1"
    assert new.created_by == clinic.users["dana"]
    assert RuleSetVersion.objects.get(version="2025.1").active is False
    assert AuditEvent.objects.filter(object_type="RuleSetVersion", object_id=str(new.pk)).exists()

    after = evaluation_make(clinic, data=GLAUCOMA_EVALUATION)
    assert after.outcome == "not_eligible"
    assert after.ruleset == new
    assert after.proposal_json["rules_version"] == "2026.1"
    assert after.proposal_json["reasons"][0]["text"].startswith("Glaucoma (any kind)")

    # Re-read from the database: the earlier proposal still says what it said.
    reread = Evaluation.objects.get(pk=before.pk)
    assert reread.ruleset.version == "2025.1"
    assert reread.outcome == "needs_review"
    assert reread.proposal_json["rules_version"] == "2025.1"
    assert reread.proposal_json["reasons"] == old_reasons
    api = clinic.api("ada").get(f"/api/v1/evaluations/{before.pk}").json()
    assert api["rules_version"] == "2025.1"
    assert api["proposal"]["reasons"] == old_reasons


def test_every_problem_of_an_edit_is_shown_and_nothing_changes(clinic: Clinic) -> None:
    rules = _edited_rules()
    rules["rules"][0]["kind"] = "sometimes"
    rules["rules"][1]["condition"] = {"moon_phase": "full"}
    del rules["rules"][2]["source"]
    response = _post_rules(clinic, "dana", json.dumps(rules))
    assert response.status_code == 422
    text = response.content.decode()
    assert "rules[0].kind: unknown kind &#x27;sometimes&#x27;" in text
    assert "rules[1].condition: unknown condition &#x27;moon_phase&#x27;" in text
    assert "rules[2]: missing &#x27;source&#x27;" in text
    assert RuleSetVersion.objects.get(active=True).version == "2025.1"
    assert RuleSetVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON: line 1, column 2"),
        ("", "already used"),  # the edited rules, under the version in use
        ('{"version": "2099.1", "rules": []}', "rules: must be a non-empty list"),
    ],
)
def test_malformed_json_and_a_reused_version_are_refused(
    clinic: Clinic, text: str, message: str
) -> None:
    response = _post_rules(clinic, "dana", text or json.dumps(_edited_rules("2025.1")))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert RuleSetVersion.objects.count() == 1


@pytest.mark.parametrize("username", ["ada", "ben", "cleo", "pat"])
def test_only_an_admin_edits_the_rules(clinic: Clinic, username: str) -> None:
    assert clinic.client(username).get(RULES_URL).status_code == 403
    response = _post_rules(clinic, username, json.dumps(_edited_rules()))
    assert response.status_code == 403
    assert RuleSetVersion.objects.count() == 1
