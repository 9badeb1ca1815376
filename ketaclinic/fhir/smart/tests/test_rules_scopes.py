"""The pure scope rules: parsing v2 and v1, granting, checking (no database)."""

from __future__ import annotations

import pytest

from ketaclinic.fhir.smart.rules.requests import request_asks
from ketaclinic.fhir.smart.rules.scopes import (
    ConstraintUnsupported,
    Grant,
    Scope,
    ScopeInvalid,
    permits,
    scope_parse,
    scopes_intersect,
    scopes_parse,
    search_constraint,
    token_matches,
)

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("system/Observation.rs", Scope("system", "Observation", "rs")),
        ("patient/*.cruds", Scope("patient", "*", "cruds")),
        ("system/Patient.r", Scope("system", "Patient", "r")),
        # v1, mapped to v2
        ("system/Observation.read", Scope("system", "Observation", "rs")),
        ("system/Observation.write", Scope("system", "Observation", "cud")),
        ("patient/*.*", Scope("patient", "*", "cruds")),
        (
            f"patient/Observation.rs?category={CATEGORY}|vital-signs",
            Scope("patient", "Observation", "rs", (("category", f"{CATEGORY}|vital-signs"),)),
        ),
    ],
)
def test_scopes_parse_to_v2(text: str, expected: Scope) -> None:
    assert scope_parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "system/Observation.dus",  # out of order
        "system/Observation.rr",
        "system/Observation.x",
        "system/Observation.",
        "group/Observation.rs",
        "system/observation.rs",
        "launch",
        "openid",
        "system/Observation.read?category=x",  # v1 takes no query
        "system/Observation.rs?category",
    ],
)
def test_bad_scopes_are_refused(text: str) -> None:
    with pytest.raises(ScopeInvalid):
        scope_parse(text)


def test_a_scope_string_splits_into_scopes_and_problems() -> None:
    scopes, problems = scopes_parse("system/Patient.rs  launch system/Observation.read")
    assert scopes == [Scope("system", "Patient", "rs"), Scope("system", "Observation", "rs")]
    assert len(problems) == 1 and "launch" in problems[0]


def test_v2_text_round_trips() -> None:
    for text in ("system/Observation.rs", f"patient/Condition.rs?category={CATEGORY}|x"):
        assert scope_parse(str(scope_parse(text))) == scope_parse(text)


def test_granted_is_requested_narrowed_by_allowed() -> None:
    allowed = [scope_parse("system/Observation.rs"), scope_parse("system/Patient.r")]
    granted = scopes_intersect([scope_parse("system/*.cruds")], allowed)
    assert [str(s) for s in granted] == ["system/Observation.rs", "system/Patient.r"]
    # a wider allowance grants the requested type only
    granted = scopes_intersect([scope_parse("system/Flag.rs")], [scope_parse("system/*.read")])
    assert [str(s) for s in granted] == ["system/Flag.rs"]
    # another context or type grants nothing
    assert scopes_intersect([scope_parse("patient/Flag.rs")], [scope_parse("system/*.rs")]) == ()
    assert scopes_intersect([scope_parse("system/Flag.c")], [scope_parse("system/*.rs")]) == ()


def test_constraints_of_both_sides_are_kept() -> None:
    allowed = [scope_parse(f"system/Observation.rs?category={CATEGORY}|survey")]
    (granted,) = scopes_intersect([scope_parse("system/Observation.read")], allowed)
    assert granted.constraints == (("category", f"{CATEGORY}|survey"),)


def _observation(code: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "category": [{"coding": [{"system": CATEGORY, "code": code}]}],
    }


def test_permits_by_type_and_interaction() -> None:
    grant = Grant((scope_parse("system/Observation.rs"),))
    assert permits(grant, "Observation", "read")
    assert permits(grant, "Observation", "search")
    assert not permits(grant, "Observation", "create")
    assert not permits(grant, "Observation", "update")
    assert not permits(grant, "Patient", "read")
    assert not permits(grant, "QuestionnaireResponse", "create")
    star = Grant((scope_parse("patient/*.read"),))
    assert permits(star, "Patient", "read") and not permits(star, "Patient", "delete")


def test_a_constrained_scope_needs_the_resource() -> None:
    grant = Grant((scope_parse(f"system/Observation.rs?category={CATEGORY}|vital-signs"),))
    assert not permits(grant, "Observation", "read")  # the type alone: not enough
    assert permits(grant, "Observation", "read", _observation("vital-signs"))
    assert not permits(grant, "Observation", "read", _observation("survey"))
    # a parameter the server cannot check fails closed
    other = Grant((scope_parse("system/Observation.rs?code=8867-4"),))
    assert not permits(other, "Observation", "read", _observation("vital-signs"))


def test_token_matching() -> None:
    codings = [(CATEGORY, "survey")]
    assert token_matches("survey", codings)
    assert token_matches(f"{CATEGORY}|survey", codings)
    assert token_matches("x,survey", codings)
    assert not token_matches("|survey", codings)  # explicitly no system
    assert not token_matches("other|survey", codings)
    assert token_matches("|survey", [(None, "survey")])


def test_search_constraint_is_the_filter_to_add() -> None:
    plain = Grant((scope_parse("system/Observation.rs"),))
    assert search_constraint(plain, "Observation") is None
    two = Grant(
        (
            scope_parse("system/Observation.rs?category=vital-signs"),
            scope_parse("system/Observation.rs?category=survey"),
        )
    )
    assert search_constraint(two, "Observation") == ("category", "survey,vital-signs")
    with pytest.raises(ConstraintUnsupported):
        search_constraint(two, "Patient")
    with pytest.raises(ConstraintUnsupported):
        search_constraint(Grant((scope_parse("system/Patient.rs?category=x"),)), "Patient")


@pytest.mark.parametrize(
    ("method", "path", "kind", "type_name", "interaction"),
    [
        ("GET", "metadata", "open", None, None),
        ("GET", "", "open", None, None),
        ("GET", "Observation", "resource", "Observation", "search"),
        ("POST", "Observation/_search", "resource", "Observation", "search"),
        ("GET", "Patient/abc", "resource", "Patient", "read"),
        ("GET", "Patient/abc/_history/2", "resource", "Patient", "read"),
        ("GET", "Patient/abc/$everything", "resource", "Patient", "read"),
        ("POST", "QuestionnaireResponse", "resource", "QuestionnaireResponse", "create"),
        ("PUT", "Observation/x", "resource", "Observation", "update"),
        ("DELETE", "Observation/x", "resource", "Observation", "delete"),
        ("GET", "$export", "export", None, "search"),
        ("GET", "Patient/$export", "export", "Patient", "search"),
        ("GET", "Group/g1/$export", "export", "Group", "search"),
        ("GET", "bulk/status/1", "unknown", None, None),
        ("POST", "metadata", "unknown", None, None),
        ("GET", "Patient/abc/$other", "unknown", None, None),
    ],
)
def test_what_a_request_asks(
    method: str, path: str, kind: str, type_name: str | None, interaction: str | None
) -> None:
    asked = request_asks(method, path)
    assert (asked.kind, asked.type_name, asked.interaction) == (kind, type_name, interaction)
