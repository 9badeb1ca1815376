"""Strict parsing of instrument definitions from decoded JSON, and their consistency checks.

Unknown keys, wrong types and internally inconsistent definitions (bands that leave a gap,
subscales naming unknown items, ...) raise ``InstrumentDefinitionInvalid`` with every problem
found, each with its JSON path. Pure Python, no Django import, so that the same parser can later
read a clinic's own, licensed definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import cast, get_args

from ketaclinic.scales.instruments.consistency import consistency_problems
from ketaclinic.scales.instruments.definition import (
    AnswerOption,
    Band,
    BandSet,
    Comparator,
    Condition,
    Cutoff,
    DropComparator,
    FlagRule,
    Instrument,
    InstrumentDefinitionInvalid,
    Item,
    MeaningfulChange,
    ProratingMethod,
    ProratingRule,
    RemissionRule,
    Respondent,
    ResponseRule,
    RiskLevelRule,
    RiskRule,
    Rounding,
    Scoring,
    ScoringMethod,
    Severity,
    Subscale,
    UpperComparator,
)

# --- parsing -------------------------------------------------------------------------------


class _Reader:
    """Strict reads from decoded JSON that collect problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: object, path: str, required: set[str], optional: set[str]) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return False
        keys = set(value)
        for missing in sorted(required - keys):
            self.fail(f"{path}.{missing}", "is required")
        for unknown in sorted(keys - required - optional):
            self.fail(f"{path}.{unknown}", "is not a known field")
        return not (required - keys)

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string")
            return ""
        return value

    def opt_string(self, value: object, path: str) -> str | None:
        return None if value is None else self.string(value, path)

    def integer(self, value: object, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "must be an integer")
            return 0
        return value

    def opt_integer(self, value: object, path: str) -> int | None:
        return None if value is None else self.integer(value, path)

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, "must be true or false")
            return False
        return value

    def decimal(self, value: object, path: str) -> Decimal:
        # Percentages are written as strings ("50") so that no float ever touches them.
        if not isinstance(value, str):
            self.fail(path, 'must be a decimal written as a string, e.g. "50"')
            return Decimal(0)
        try:
            result = Decimal(value)
        except ArithmeticError:
            self.fail(path, f"{value!r} is not a decimal")
            return Decimal(0)
        if not result.is_finite():
            self.fail(path, "must be finite")
            return Decimal(0)
        return result

    def choice(self, value: object, path: str, allowed: object) -> str:
        options = cast(tuple[str, ...], get_args(allowed))
        if not isinstance(value, str) or value not in options:
            self.fail(path, f"must be one of {', '.join(options)}")
            return options[0]
        return value

    def array(self, value: object, path: str) -> list[object]:
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return []
        return value


def _get(data: object, key: str, default: object = None) -> object:
    return data.get(key, default) if isinstance(data, dict) else default


def _condition(r: _Reader, data: object, path: str) -> Condition:
    r.obj(data, path, {"link_id", "comparator", "value"}, set())
    return Condition(
        link_id=r.string(_get(data, "link_id"), f"{path}.link_id"),
        comparator=cast(
            Comparator, r.choice(_get(data, "comparator"), f"{path}.comparator", Comparator)
        ),
        value=r.integer(_get(data, "value"), f"{path}.value"),
    )


def _option(r: _Reader, data: object, path: str) -> AnswerOption:
    r.obj(data, path, {"weight", "display", "loinc"}, set())
    return AnswerOption(
        weight=r.integer(_get(data, "weight"), f"{path}.weight"),
        display=r.string(_get(data, "display"), f"{path}.display"),
        loinc=r.opt_string(_get(data, "loinc"), f"{path}.loinc"),
    )


def _item(
    r: _Reader, data: object, path: str, answer_sets: Mapping[str, tuple[AnswerOption, ...]]
) -> Item:
    r.obj(data, path, {"link_id", "loinc", "text", "answers"}, {"enable_when"})
    answers = _get(data, "answers")
    options: tuple[AnswerOption, ...] = ()
    if isinstance(answers, str):
        if answers in answer_sets:
            options = answer_sets[answers]
        else:
            r.fail(f"{path}.answers", f"names no answer set ({answers!r})")
    else:
        options = tuple(
            _option(r, option, f"{path}.answers[{i}]")
            for i, option in enumerate(r.array(answers, f"{path}.answers"))
        )
    return Item(
        link_id=r.string(_get(data, "link_id"), f"{path}.link_id"),
        loinc=r.opt_string(_get(data, "loinc"), f"{path}.loinc"),
        text=r.opt_string(_get(data, "text"), f"{path}.text"),
        options=options,
        enable_when=tuple(
            _condition(r, condition, f"{path}.enable_when[{i}]")
            for i, condition in enumerate(r.array(_get(data, "enable_when", []), path))
        ),
    )


def _band(r: _Reader, data: object, path: str) -> Band:
    r.obj(data, path, {"low", "high", "label", "source"}, {"confirmed"})
    return Band(
        low=r.integer(_get(data, "low"), f"{path}.low"),
        high=r.integer(_get(data, "high"), f"{path}.high"),
        label=r.string(_get(data, "label"), f"{path}.label"),
        source=r.string(_get(data, "source"), f"{path}.source"),
        confirmed=r.boolean(_get(data, "confirmed", True), f"{path}.confirmed"),
    )


def _bands(r: _Reader, data: object, path: str) -> tuple[Band, ...]:
    return tuple(_band(r, band, f"{path}[{i}]") for i, band in enumerate(r.array(data, path)))


def _response(r: _Reader, data: object, path: str) -> ResponseRule | None:
    if data is None:
        return None
    r.obj(data, path, {"percent_drop", "comparator", "source"}, {"confirmed"})
    return ResponseRule(
        percent_drop=r.decimal(_get(data, "percent_drop"), f"{path}.percent_drop"),
        comparator=cast(
            DropComparator,
            r.choice(_get(data, "comparator"), f"{path}.comparator", DropComparator),
        ),
        source=r.string(_get(data, "source"), f"{path}.source"),
        confirmed=r.boolean(_get(data, "confirmed", True), f"{path}.confirmed"),
    )


def _remission(r: _Reader, data: object, path: str) -> RemissionRule | None:
    if data is None:
        return None
    r.obj(data, path, {"threshold", "comparator", "source"}, {"confirmed"})
    return RemissionRule(
        threshold=r.integer(_get(data, "threshold"), f"{path}.threshold"),
        comparator=cast(
            UpperComparator,
            r.choice(_get(data, "comparator"), f"{path}.comparator", UpperComparator),
        ),
        source=r.string(_get(data, "source"), f"{path}.source"),
        confirmed=r.boolean(_get(data, "confirmed", True), f"{path}.confirmed"),
    )


def _meaningful_change(r: _Reader, data: object, path: str) -> MeaningfulChange | None:
    if data is None:
        return None
    r.obj(data, path, {"points", "comparator", "source"}, {"confirmed"})
    return MeaningfulChange(
        points=r.integer(_get(data, "points"), f"{path}.points"),
        comparator=cast(
            DropComparator,
            r.choice(_get(data, "comparator"), f"{path}.comparator", DropComparator),
        ),
        source=r.string(_get(data, "source"), f"{path}.source"),
        confirmed=r.boolean(_get(data, "confirmed", True), f"{path}.confirmed"),
    )


def _risk(r: _Reader, data: object, path: str) -> RiskLevelRule | None:
    if data is None:
        return None
    r.obj(data, path, {"rules", "default_level", "loinc", "source"}, {"confirmed"})
    rules: list[RiskRule] = []
    for i, rule in enumerate(r.array(_get(data, "rules"), f"{path}.rules")):
        rule_path = f"{path}.rules[{i}]"
        r.obj(rule, rule_path, {"level", "any_of"}, set())
        rules.append(
            RiskRule(
                level=r.string(_get(rule, "level"), f"{rule_path}.level"),
                any_of=tuple(
                    _condition(r, condition, f"{rule_path}.any_of[{j}]")
                    for j, condition in enumerate(
                        r.array(_get(rule, "any_of"), f"{rule_path}.any_of")
                    )
                ),
            )
        )
    return RiskLevelRule(
        rules=tuple(rules),
        default_level=r.string(_get(data, "default_level"), f"{path}.default_level"),
        loinc=r.opt_string(_get(data, "loinc"), f"{path}.loinc"),
        source=r.string(_get(data, "source"), f"{path}.source"),
        confirmed=r.boolean(_get(data, "confirmed", True), f"{path}.confirmed"),
    )


def _prorating(r: _Reader, data: object, path: str) -> ProratingRule | None:
    if data is None:
        return None
    r.obj(data, path, {"max_missing", "method", "rounding", "source"}, set())
    return ProratingRule(
        max_missing=r.integer(_get(data, "max_missing"), f"{path}.max_missing"),
        method=cast(
            ProratingMethod,
            r.choice(_get(data, "method"), f"{path}.method", ProratingMethod),
        ),
        rounding=cast(Rounding, r.choice(_get(data, "rounding"), f"{path}.rounding", Rounding)),
        source=r.string(_get(data, "source"), f"{path}.source"),
    )


_REQUIRED = {
    "code",
    "name",
    "source",
    "confirmed",
    "licence",
    "loinc",
    "recall_period",
    "respondents",
    "items",
    "scoring",
    "bands",
    "response",
    "remission",
    "prorating",
}
_OPTIONAL = {
    "preamble",
    "answer_sets",
    "subscales",
    "band_variants",
    "cutoffs",
    "partial_response",
    "meaningful_change",
    "flags",
    "risk",
    "notes",
}


def parse_instrument(data: object) -> Instrument:
    """Build an ``Instrument`` from decoded JSON, or raise ``InstrumentDefinitionInvalid``
    listing every structural and consistency problem."""
    r = _Reader()
    code = _get(data, "code")
    code_text = code if isinstance(code, str) else "?"
    r.obj(data, "$", _REQUIRED, _OPTIONAL)

    answer_sets: dict[str, tuple[AnswerOption, ...]] = {}
    raw_sets = _get(data, "answer_sets", {})
    if isinstance(raw_sets, dict):
        for name, options in raw_sets.items():
            answer_sets[name] = tuple(
                _option(r, option, f"$.answer_sets.{name}[{i}]")
                for i, option in enumerate(r.array(options, f"$.answer_sets.{name}"))
            )
    else:
        r.fail("$.answer_sets", "must be an object")

    loinc = _get(data, "loinc")
    r.obj(loinc, "$.loinc", {"panel", "total"}, set())

    scoring = _get(data, "scoring")
    r.obj(scoring, "$.scoring", {"method", "convention", "min_total", "max_total"}, set())

    subscales: list[Subscale] = []
    for i, sub in enumerate(r.array(_get(data, "subscales", []), "$.subscales")):
        path = f"$.subscales[{i}]"
        r.obj(sub, path, {"name", "link_ids", "source"}, {"confirmed"})
        subscales.append(
            Subscale(
                name=r.string(_get(sub, "name"), f"{path}.name"),
                link_ids=tuple(
                    r.string(link_id, f"{path}.link_ids[{j}]")
                    for j, link_id in enumerate(r.array(_get(sub, "link_ids"), f"{path}.link_ids"))
                ),
                source=r.string(_get(sub, "source"), f"{path}.source"),
                confirmed=r.boolean(_get(sub, "confirmed", True), f"{path}.confirmed"),
            )
        )

    band_variants: list[BandSet] = []
    for i, variant in enumerate(r.array(_get(data, "band_variants", []), "$.band_variants")):
        path = f"$.band_variants[{i}]"
        r.obj(variant, path, {"name", "bands", "note"}, set())
        band_variants.append(
            BandSet(
                name=r.string(_get(variant, "name"), f"{path}.name"),
                bands=_bands(r, _get(variant, "bands"), f"{path}.bands"),
                note=r.string(_get(variant, "note"), f"{path}.note"),
            )
        )

    cutoffs: list[Cutoff] = []
    for i, cutoff in enumerate(r.array(_get(data, "cutoffs", []), "$.cutoffs")):
        path = f"$.cutoffs[{i}]"
        r.obj(cutoff, path, {"comparator", "value", "label", "source"}, {"confirmed"})
        cutoffs.append(
            Cutoff(
                comparator=cast(
                    Comparator,
                    r.choice(_get(cutoff, "comparator"), f"{path}.comparator", Comparator),
                ),
                value=r.integer(_get(cutoff, "value"), f"{path}.value"),
                label=r.string(_get(cutoff, "label"), f"{path}.label"),
                source=r.string(_get(cutoff, "source"), f"{path}.source"),
                confirmed=r.boolean(_get(cutoff, "confirmed", True), f"{path}.confirmed"),
            )
        )

    flags: list[FlagRule] = []
    for i, flag in enumerate(r.array(_get(data, "flags", []), "$.flags")):
        path = f"$.flags[{i}]"
        r.obj(flag, path, {"code", "severity", "when", "message", "source"}, set())
        flags.append(
            FlagRule(
                code=r.string(_get(flag, "code"), f"{path}.code"),
                severity=cast(
                    Severity, r.choice(_get(flag, "severity"), f"{path}.severity", Severity)
                ),
                when=_condition(r, _get(flag, "when"), f"{path}.when"),
                message=r.string(_get(flag, "message"), f"{path}.message"),
                source=r.string(_get(flag, "source"), f"{path}.source"),
            )
        )

    instrument = Instrument(
        code=r.string(code, "$.code"),
        name=r.string(_get(data, "name"), "$.name"),
        source=r.string(_get(data, "source"), "$.source"),
        confirmed=r.boolean(_get(data, "confirmed"), "$.confirmed"),
        licence=r.string(_get(data, "licence"), "$.licence"),
        loinc_panel=r.opt_string(_get(loinc, "panel"), "$.loinc.panel"),
        loinc_total=r.opt_string(_get(loinc, "total"), "$.loinc.total"),
        recall_period=r.opt_string(_get(data, "recall_period"), "$.recall_period"),
        respondents=tuple(
            cast(Respondent, r.choice(value, f"$.respondents[{i}]", Respondent))
            for i, value in enumerate(r.array(_get(data, "respondents"), "$.respondents"))
        ),
        preamble=r.opt_string(_get(data, "preamble"), "$.preamble"),
        items=tuple(
            _item(r, item, f"$.items[{i}]", answer_sets)
            for i, item in enumerate(r.array(_get(data, "items"), "$.items"))
        ),
        subscales=tuple(subscales),
        scoring=Scoring(
            method=cast(
                ScoringMethod,
                r.choice(_get(scoring, "method"), "$.scoring.method", ScoringMethod),
            ),
            convention=r.opt_string(_get(scoring, "convention"), "$.scoring.convention"),
            min_total=r.opt_integer(_get(scoring, "min_total"), "$.scoring.min_total"),
            max_total=r.opt_integer(_get(scoring, "max_total"), "$.scoring.max_total"),
        ),
        bands=_bands(r, _get(data, "bands"), "$.bands"),
        band_variants=tuple(band_variants),
        cutoffs=tuple(cutoffs),
        response=_response(r, _get(data, "response"), "$.response"),
        partial_response=_response(r, _get(data, "partial_response"), "$.partial_response"),
        remission=_remission(r, _get(data, "remission"), "$.remission"),
        meaningful_change=_meaningful_change(
            r, _get(data, "meaningful_change"), "$.meaningful_change"
        ),
        flags=tuple(flags),
        risk=_risk(r, _get(data, "risk"), "$.risk"),
        prorating=_prorating(r, _get(data, "prorating"), "$.prorating"),
        notes=tuple(
            r.string(note, f"$.notes[{i}]")
            for i, note in enumerate(r.array(_get(data, "notes", []), "$.notes"))
        ),
    )
    if r.problems:
        raise InstrumentDefinitionInvalid(code_text, r.problems)
    problems = consistency_problems(instrument)
    if problems:
        raise InstrumentDefinitionInvalid(code_text, problems)
    return instrument
