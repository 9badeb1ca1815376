"""OperationOutcome: every FHIR error answers with one issue per problem.

``FhirProblem`` carries the issues and the HTTP status up to the view, which renders them.
``expression`` names where the problem is: a FHIRPath into the resource, or for answers the
linkId path of the item (``H1/T1 > H1/T1/Q3``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fhir.resources.R4B.operationoutcome import OperationOutcome

IssueSeverity = Literal["fatal", "error", "warning", "information"]
# The FHIR issue-type codes we use (http://hl7.org/fhir/issue-type).
IssueCode = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "forbidden",
    "not-found",
    "duplicate",
    "not-supported",
    "business-rule",
    "processing",
    "too-costly",
    "throttled",
    "transient",
    "exception",
]


@dataclass(frozen=True, slots=True)
class Issue:
    code: IssueCode
    diagnostics: str
    expression: str | None = None
    severity: IssueSeverity = "error"

    def as_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


class FhirProblem(Exception):
    """A request that cannot be carried out; ``issues`` lists every reason at once."""

    def __init__(self, status: int, issues: Iterable[Issue]) -> None:
        self.status = status
        self.issues = tuple(issues)
        super().__init__("; ".join(i.diagnostics for i in self.issues))


def operation_outcome_json(issues: Sequence[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_json() for issue in issues]}


def operation_outcome(issues: Sequence[Issue]) -> OperationOutcome:
    """The R4B model of the outcome (for tests and for callers that want the object)."""
    return OperationOutcome.model_validate(operation_outcome_json(issues))


def issues_from_validation_error(exc: Any, resource_type: str) -> list[Issue]:
    """One issue per pydantic error of a fhir.resources model, at its FHIRPath-like location."""
    issues = []
    for error in exc.errors():
        parts = [resource_type]
        for part in error.get("loc", ()):
            if isinstance(part, int):
                parts[-1] = f"{parts[-1]}[{part}]"
            else:
                parts.append(str(part))
        message = str(error.get("msg", "invalid"))[:300]
        issues.append(Issue("structure", message, ".".join(parts)))
    return issues or [Issue("structure", f"not a valid {resource_type}")]
