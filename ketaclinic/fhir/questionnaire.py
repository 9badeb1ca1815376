"""The built-in instruments as R4 Questionnaires, and imported Questionnaires' canonical form.

Each built-in answer option is a Coding (the LOINC answer code where one exists, else our code
system with the weight as code) carrying its weight as an ``ordinalValue`` extension; each item
carries its LOINC code where one exists. C-SSRS skip logic becomes ``enableWhen``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from django.conf import settings

from ketaclinic.fhir.fhirpath import ORDINAL_VALUE
from ketaclinic.fhir.scoring_plan import LOINC
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import AnswerOption, Instrument, Item, translations

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
_NAME = re.compile(r"\(([^()]+)\)\s*$")


def canonical_base() -> str:
    return str(settings.KETACLINIC_FHIR_CANONICAL_BASE)


def builtin_id(code: str) -> str:
    """FHIR ids allow no underscore: ``cssrs_screener`` is ``cssrs-screener``."""
    return code.replace("_", "-")


def builtin_url(code: str, base: str | None = None) -> str:
    return f"{base or canonical_base()}/Questionnaire/{builtin_id(code)}"


def computable_name(instrument: Instrument) -> str:
    """``GAD7`` from "... (GAD-7)": the short name without punctuation."""
    found = _NAME.search(instrument.name)
    short = found.group(1) if found else instrument.code
    return re.sub(r"[^A-Za-z0-9]", "", short.split(",")[0]) or instrument.code


def answer_coding(instrument: Instrument, option: AnswerOption, base: str) -> dict[str, Any]:
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.display}
    return {
        "system": f"{base}/CodeSystem/{builtin_id(instrument.code)}-answers",
        "code": str(option.weight),
        "display": option.display,
    }


def _translated(texts: dict[str, str]) -> dict[str, Any]:
    """A primitive's ``_text``/``_display``/``_title``: the official translations, with the
    standard translation extension (language, content)."""
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": language},
                    {"url": "content", "valueString": text},
                ],
            }
            for language, text in sorted(texts.items())
        ]
    }


def _official(instrument: Instrument) -> dict[str, Instrument]:
    """language -> the instrument in its owner's translation (scales/instruments/translations)."""
    found = {}
    for language in sorted(translations.OFFICIAL):
        shown = translations.localised(instrument, language)
        if shown is not None:
            found[language] = shown
    return found


def _item(instrument: Instrument, item: Item, base: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "linkId": item.link_id,
        "text": item.text or f"Item {item.link_id} (licensed wording not included)",
        "type": "choice",
        "required": True,
        "answerOption": [
            {
                "valueCoding": {
                    **answer_coding(instrument, option, base),
                    "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.weight}],
                }
            }
            for option in item.options
        ],
    }
    if item.loinc:
        entry["code"] = [{"system": LOINC, "code": item.loinc}]
    official = _official(instrument)
    if official and item.text:
        entry["_text"] = _translated(
            {lang: str(shown.item(item.link_id).text) for lang, shown in official.items()}
        )
        for index, answer in enumerate(entry["answerOption"]):
            answer["valueCoding"]["_display"] = _translated(
                {
                    lang: shown.item(item.link_id).options[index].display
                    for lang, shown in official.items()
                }
            )
    if item.enable_when:
        conditions = []
        for condition in item.enable_when:
            if condition.comparator != "==":
                raise ValueError(f"{instrument.code} item {item.link_id}: only == is mapped")
            controlling = instrument.item(condition.link_id)
            chosen = next(o for o in controlling.options if o.weight == condition.value)
            conditions.append(
                {
                    "question": condition.link_id,
                    "operator": "=",
                    "answerCoding": answer_coding(instrument, chosen, base),
                }
            )
        entry["enableWhen"] = conditions
        if len(conditions) > 1:
            entry["enableBehavior"] = "all"
    return entry


def builtin_questionnaire(instrument: Instrument, base: str | None = None) -> dict[str, Any]:
    """The R4 Questionnaire of a built-in instrument (validates with the R4B model)."""
    base = base or canonical_base()
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": builtin_id(instrument.code),
        "url": builtin_url(instrument.code, base),
        "name": computable_name(instrument),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"{instrument.name}. Source: {instrument.source}.",
        "copyright": instrument.licence,
        "item": [_item(instrument, item, base) for item in instrument.items],
    }
    official = _official(instrument)
    if official:
        resource["_title"] = _translated({lang: shown.name for lang, shown in official.items()})
    if instrument.loinc_panel:
        resource["code"] = [
            {"system": LOINC, "code": instrument.loinc_panel, "display": instrument.name}
        ]
    return resource


@cache
def _builtin_texts(base: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (code, json.dumps(builtin_questionnaire(instrument, base), separators=(",", ":")))
        for code, instrument in instruments.load_builtin().items()
    )


def builtin_json_texts() -> list[tuple[Instrument, str]]:
    """Every built-in Questionnaire as compact JSON text, built once per canonical base."""
    return [(instruments.get(code), text) for code, text in _builtin_texts(canonical_base())]


def builtin_by_url(url: str) -> Instrument | None:
    for code in instruments.BUILTIN_CODES:
        if builtin_url(code) == url:
            return instruments.get(code)
    return None
