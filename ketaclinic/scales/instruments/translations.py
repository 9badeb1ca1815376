"""Official translations of the built-in instruments' wording, as data; pure Python.

A translation changes only what the patient reads: the title, the preamble, each item's text
and each answer's words. Link ids, weights, bands, cut-offs and flags are the instrument's
own, so the same answers score the same in every language (``localised`` keeps them; the
tests check the score and PHQ-9 item 9's flag in both languages).

Only translations published by the instrument's owner are here. An instrument without one is
shown in English, with a note in the patient's language (``localised`` answers None): a
translation of our own would be an unvalidated instrument.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ketaclinic.scales.instruments.definition import AnswerOption, Instrument, Item


@dataclass(frozen=True)
class Translation:
    name: str
    preamble: str
    items: dict[str, str]
    """link_id -> item text"""
    answers: dict[int, str]
    """weight -> answer words"""
    source: str


# Source for both: the PHQ screeners' official "Spanish for USA" versions, published by Pfizer
# (phqscreeners.com, "Select a screener": PHQ-9 and GAD-7, Spanish for USA; free to use,
# reproduce and translate). Wording cross-checked against two independent public
# reproductions of those PDFs (a clinical app's PHQ-9/GAD-7 data and a survey platform's
# PHQ-9 items; PMC12540321 table 2 reproduces the same PHQ-9 items in the tu form).
# GAD-7's first answer is "Nunca" on the GAD-7 form and "Ningún día" on the PHQ-9 form. The
# dashes of PHQ-9 items 6 and 8 are the forms' en dashes (written \u2013 for the linter).
PFIZER_SPANISH_USA = (
    "PHQ screeners (Pfizer Inc.), official Spanish for USA translation, phqscreeners.com"
)

SPANISH: dict[str, Translation] = {
    "gad7": Translation(
        name="Escala del trastorno de ansiedad generalizada (GAD-7)",
        preamble=(
            "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado "
            "los siguientes problemas?"
        ),
        items={
            "1": "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
            "2": "No ha sido capaz de parar o controlar su preocupación",
            "3": "Se ha preocupado demasiado por motivos diferentes",
            "4": "Ha tenido dificultad para relajarse",
            "5": "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
            "6": "Se ha molestado o irritado fácilmente",
            "7": "Ha tenido miedo de que algo terrible fuera a pasar",
        },
        answers={
            0: "Nunca",
            1: "Varios días",
            2: "Más de la mitad de los días",
            3: "Casi todos los días",
        },
        source=PFIZER_SPANISH_USA,
    ),
    "phq9": Translation(
        name="Cuestionario sobre la salud del paciente (PHQ-9)",
        preamble=(
            "Durante las últimas 2 semanas, ¿qué tan seguido le han molestado cualquiera "
            "de los siguientes problemas?"
        ),
        items={
            "1": "Poco interés o placer en hacer cosas",
            "2": "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
            "3": "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido "
            "demasiado",
            "4": "Se ha sentido cansado(a) o con poca energía",
            "5": "Sin apetito o ha comido en exceso",
            "6": "Se ha sentido mal con usted mismo(a) \u2013 o que es un fracaso o que ha quedado "
            "mal con usted mismo(a) o con su familia",
            "7": "Ha tenido dificultad para concentrarse en ciertas actividades, tales como "
            "leer el periódico o ver la televisión",
            "8": "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? "
            "o lo contrario \u2013 muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más "
            "de lo normal",
            "9": "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
        },
        answers={
            0: "Ningún día",
            1: "Varios días",
            2: "Más de la mitad de los días",
            3: "Casi todos los días",
        },
        source=PFIZER_SPANISH_USA,
    ),
}

OFFICIAL: dict[str, dict[str, Translation]] = {"es": SPANISH}
"""language -> instrument code -> its owner's translation."""


def base_language(language: str) -> str:
    return language.split("-", 1)[0].lower()


def localised(instrument: Instrument, language: str) -> Instrument | None:
    """The instrument in ``language``: itself in English, its official translation where one
    exists, else None (show the English form, with a note)."""
    base = base_language(language)
    if base == "en":
        return instrument
    translation = OFFICIAL.get(base, {}).get(instrument.code)
    if translation is None:
        return None
    items = tuple(_item(item, translation) for item in instrument.items)
    return replace(instrument, name=translation.name, preamble=translation.preamble, items=items)


def display_name(instrument: Instrument, language: str) -> str:
    """The instrument's title in ``language`` where it has an official translation."""
    shown = localised(instrument, language)
    return shown.name if shown is not None else instrument.name


def _item(item: Item, translation: Translation) -> Item:
    options = tuple(
        AnswerOption(
            weight=option.weight,
            display=translation.answers[option.weight],
            loinc=option.loinc,
        )
        for option in item.options
    )
    return replace(item, text=translation.items[item.link_id], options=options)
