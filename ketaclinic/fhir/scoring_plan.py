"""How a Questionnaire is scored: its items, answer weights, the built-in instrument it is
linked to, and its FHIRPath score expressions. Read from the Questionnaire's JSON, for built-in
and imported definitions alike, so that one path validates and scores every response.

Weights come from ``ordinalValue`` or ``itemWeight`` (on the answerOption, its Coding, or the
concept of a contained ValueSet). The scored items are matched to the instrument's items by
item LOINC code, else by their order. Pure: no Django import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ketaclinic.fhir import fhirpath
from ketaclinic.fhir.outcome import Issue
from ketaclinic.scales.instruments import Instrument

LOINC = "http://loinc.org"
CALCULATED_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
FHIRPATH_LANGUAGE = "text/fhirpath"
CHOICE_TYPES = frozenset({"choice", "open-choice"})


@dataclass(frozen=True, slots=True)
class Option:
    system: str | None
    code: str | None
    display: str | None
    integer: int | None
    weight: Decimal | None


@dataclass(frozen=True, slots=True)
class Expression:
    name: str | None
    expression: str
    where: str  # FHIRPath to the expression inside the Questionnaire, for issues


@dataclass(frozen=True, slots=True)
class PlanItem:
    link_id: str
    type: str
    required: bool
    repeats: bool
    options: tuple[Option, ...]
    loinc: str | None
    calculated: Expression | None
    variables: tuple[Expression, ...]
    parent: str | None
    children: tuple[str, ...]
    target: str | None = None  # the instrument's link_id, for a scored item

    @property
    def weighted(self) -> bool:
        return any(option.weight is not None for option in self.options)


@dataclass(frozen=True, slots=True)
class Plan:
    instrument: Instrument
    items: Mapping[str, PlanItem]
    top: tuple[str, ...]
    variables: tuple[Expression, ...]
    total_item: str | None

    def scope(self, link_id: str) -> list[Expression]:
        """The variables in scope for an item's expressions: root first, then each ancestor."""
        chain: list[PlanItem] = []
        current: str | None = link_id
        while current is not None:
            chain.append(self.items[current])
            current = self.items[current].parent
        scoped = list(self.variables)
        for item in reversed(chain):
            scoped.extend(item.variables)
        return scoped

    def by_target(self) -> dict[str, str]:
        return {item.target: item.link_id for item in self.items.values() if item.target}


class PlanInvalid(ValueError):
    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(i.diagnostics for i in self.issues))


def item_path(items: Mapping[str, PlanItem], link_id: str, root: str) -> str:
    """``Questionnaire.item.where(linkId='H1').item.where(linkId='H1/Q1')``."""
    chain = []
    current: str | None = link_id
    while current is not None:
        chain.append(current)
        current = items[current].parent
    return root + "".join(f".item.where(linkId='{part}')" for part in reversed(chain))


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _weight_of(*holders: Mapping[str, Any]) -> tuple[Decimal | None, bool]:
    """(weight, found-but-invalid) from the first weight extension on any holder."""
    for holder in holders:
        for extension in holder.get("extension", []) or []:
            if isinstance(extension, dict) and extension.get("url") in fhirpath.WEIGHT_URLS:
                raw = extension.get("valueDecimal", extension.get("valueInteger"))
                weight = _decimal(raw)
                return weight, weight is None
    return None, False


def _expressions(
    holder: Mapping[str, Any], where: str, issues: list[Issue]
) -> Iterator[tuple[str, Expression]]:
    for index, extension in enumerate(holder.get("extension", []) or []):
        url = extension.get("url") if isinstance(extension, dict) else None
        if url not in (CALCULATED_EXPRESSION, VARIABLE):
            continue
        value = extension.get("valueExpression") or {}
        at = f"{where}.extension[{index}].valueExpression"
        language = value.get("language")
        text = value.get("expression")
        if language != FHIRPATH_LANGUAGE:
            issues.append(
                Issue(
                    "not-supported",
                    f"expression language {language!r} is not supported; only text/fhirpath",
                    at,
                )
            )
            continue
        if not isinstance(text, str) or not text.strip():
            issues.append(Issue("required", "the expression is empty", at))
            continue
        for problem in fhirpath.lint(text):
            issues.append(Issue("invariant", f"score expression {text!r}: {problem}", at))
        yield url, Expression(value.get("name"), text, at)


def _contained_value_sets(questionnaire: Mapping[str, Any]) -> dict[str, list[Option]]:
    found: dict[str, list[Option]] = {}
    for resource in questionnaire.get("contained", []) or []:
        if not isinstance(resource, dict) or resource.get("resourceType") != "ValueSet":
            continue
        options = []
        for include in (resource.get("compose") or {}).get("include", []) or []:
            system = include.get("system")
            for concept in include.get("concept", []) or []:
                weight, _ = _weight_of(concept)
                options.append(
                    Option(system, concept.get("code"), concept.get("display"), None, weight)
                )
        found[f"#{resource.get('id')}"] = options
    return found


def _options(
    raw: Mapping[str, Any], where: str, value_sets: Mapping[str, list[Option]], issues: list[Issue]
) -> tuple[Option, ...]:
    options: list[Option] = []
    for index, option in enumerate(raw.get("answerOption", []) or []):
        coding = option.get("valueCoding")
        weight, bad = _weight_of(option, coding or {})
        if bad:
            issues.append(
                Issue(
                    "value", "the answer weight is not a number", f"{where}.answerOption[{index}]"
                )
            )
        if isinstance(coding, dict):
            options.append(
                Option(
                    coding.get("system"), coding.get("code"), coding.get("display"), None, weight
                )
            )
        elif isinstance(option.get("valueInteger"), int):
            value = option["valueInteger"]
            options.append(Option(None, None, None, value, weight if weight is not None else None))
        else:
            options.append(Option(None, None, None, None, weight))
    value_set = raw.get("answerValueSet")
    if isinstance(value_set, str):
        if value_set in value_sets:
            options.extend(value_sets[value_set])
        else:
            issues.append(
                Issue(
                    "not-supported",
                    f"answerValueSet {value_set!r} is not a contained ValueSet; its answers and "
                    "weights cannot be read",
                    f"{where}.answerValueSet",
                )
            )
    return tuple(options)


def _loinc(raw: Mapping[str, Any]) -> str | None:
    for coding in raw.get("code", []) or []:
        if isinstance(coding, dict) and coding.get("system") == LOINC and coding.get("code"):
            return str(coding["code"])
    return None


def _read_items(
    questionnaire: Mapping[str, Any], issues: list[Issue]
) -> tuple[dict[str, PlanItem], tuple[str, ...]]:
    value_sets = _contained_value_sets(questionnaire)
    items: dict[str, PlanItem] = {}

    def read(raws: Sequence[Any], parent: str | None, where: str) -> tuple[str, ...]:
        ids: list[str] = []
        for index, raw in enumerate(raws):
            at = f"{where}.item[{index}]"
            link_id = raw.get("linkId") if isinstance(raw, dict) else None
            if not isinstance(link_id, str) or not link_id:
                issues.append(Issue("required", "the item has no linkId", at))
                continue
            if link_id in items:
                issues.append(Issue("duplicate", f"linkId {link_id!r} is used twice", at))
                continue
            calculated = None
            variables = []
            for url, expression in _expressions(raw, at, issues):
                if url == CALCULATED_EXPRESSION:
                    calculated = expression
                else:
                    variables.append(expression)
            items[link_id] = PlanItem(
                link_id=link_id,
                type=str(raw.get("type", "")),
                required=bool(raw.get("required", False)),
                repeats=bool(raw.get("repeats", False)),
                options=_options(raw, at, value_sets, issues),
                loinc=_loinc(raw),
                calculated=calculated,
                variables=tuple(variables),
                parent=parent,
                children=(),
            )
            children = read(raw.get("item", []) or [], link_id, at)
            items[link_id] = _replace(items[link_id], children=children)
            ids.append(link_id)
        return tuple(ids)

    top = read(questionnaire.get("item", []) or [], None, "Questionnaire")
    return items, top


def _replace(item: PlanItem, **changes: Any) -> PlanItem:
    fields = {name: getattr(item, name) for name in PlanItem.__slots__}
    fields.update(changes)
    return PlanItem(**fields)


def instrument_for(
    questionnaire: Mapping[str, Any], instruments: Mapping[str, Instrument]
) -> Instrument | None:
    """The built-in instrument with the Questionnaire's LOINC panel code, else with the LOINC
    code of one of its items as total (a definition that codes only its total item)."""
    panel = _loinc(questionnaire)
    for instrument in instruments.values():
        if panel is not None and instrument.loinc_panel == panel:
            return instrument
    item_codes: set[str] = set()

    def collect(raws: Sequence[Any]) -> None:
        for raw in raws:
            if isinstance(raw, dict):
                code = _loinc(raw)
                if code:
                    item_codes.add(code)
                collect(raw.get("item", []) or [])

    collect(questionnaire.get("item", []) or [])
    for instrument in instruments.values():
        if instrument.loinc_total and instrument.loinc_total in item_codes:
            return instrument
    return None


def plan_read(
    questionnaire: Mapping[str, Any],
    instruments: Mapping[str, Instrument],
    instrument: Instrument | None = None,
) -> Plan:
    """The scoring plan of a Questionnaire, or ``PlanInvalid`` listing every problem.

    ``instrument`` is given for a built-in's own Questionnaire; an imported one is linked to
    the built-in with its LOINC code."""
    issues: list[Issue] = []
    instrument = instrument or instrument_for(questionnaire, instruments)
    items, top = _read_items(questionnaire, issues)
    variables = tuple(
        expression
        for url, expression in _expressions(questionnaire, "Questionnaire", issues)
        if url == VARIABLE
    )
    if instrument is None:
        issues.append(
            Issue(
                "not-supported",
                "no built-in instrument has this Questionnaire's LOINC code (Questionnaire.code) "
                "or the LOINC code of its total item; built-ins: "
                + ", ".join(
                    f"{i.code} {i.loinc_panel}" for i in instruments.values() if i.loinc_panel
                ),
                "Questionnaire.code",
            )
        )
        raise PlanInvalid(issues)
    items = _link_items(instrument, items, issues)
    total_item = None
    for item in items.values():
        if item.calculated and instrument.loinc_total and item.loinc == instrument.loinc_total:
            total_item = item.link_id
    if issues:
        raise PlanInvalid(issues)
    return Plan(instrument, items, top, variables, total_item)


def _link_items(
    instrument: Instrument, items: dict[str, PlanItem], issues: list[Issue]
) -> dict[str, PlanItem]:
    scored = [item for item in items.values() if item.weighted]
    by_loinc = {item.loinc: item.link_id for item in instrument.items if item.loinc}
    targets: dict[str, str] = {}
    for item in scored:
        if item.loinc in by_loinc and by_loinc[item.loinc] not in targets.values():
            targets[item.link_id] = by_loinc[item.loinc]
    free = [link_id for link_id in instrument.link_ids if link_id not in targets.values()]
    for item in scored:
        if item.link_id not in targets and free:
            targets[item.link_id] = free.pop(0)
    name = instrument.code
    if len(scored) != len(instrument.items):
        issues.append(
            Issue(
                "business-rule",
                f"{len(scored)} items carry answer weights, but the built-in {name} has "
                f"{len(instrument.items)} scored items",
                "Questionnaire.item",
            )
        )
        return items
    linked = dict(items)
    for item in scored:
        target = targets[item.link_id]
        weights = sorted({o.weight for o in item.options if o.weight is not None})
        expected = sorted(Decimal(w) for w in instrument.item(target).weights)
        if weights != expected:
            issues.append(
                Issue(
                    "business-rule",
                    f"item {item.link_id!r} has answer weights "
                    f"{', '.join(str(w) for w in weights)}; the built-in {name} item {target} "
                    f"has {', '.join(str(w) for w in expected)}",
                    item_path(items, item.link_id, "Questionnaire"),
                )
            )
        linked[item.link_id] = _replace(item, target=target)
    return linked
