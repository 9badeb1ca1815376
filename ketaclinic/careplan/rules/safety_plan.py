"""The crisis plan's sections: the six steps of the Stanley-Brown Safety Planning Intervention.

Source: Stanley B, Brown GK. Safety Planning Intervention: a brief intervention to mitigate
suicide risk. Cogn Behav Pract. 2012;19(2):256-264. doi:10.1016/j.cbpra.2011.01.001.
The six steps, in the order the patient uses them: warning signs; internal coping strategies;
people and social settings that provide distraction; people whom the patient can ask for help;
professionals or agencies to contact during a crisis; making the environment safe.

The 988 Suicide & Crisis Lifeline (call or text 988 in the United States, since 16 July 2022;
SAMHSA, https://988lifeline.org) is always listed among the professionals and agencies: the
plan adds it whatever the clinician typed, so no signed plan can leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str  # the staff editor's label
    prompt: str  # the question the patient answers, in their words


SECTIONS: tuple[Section, ...] = (
    Section(
        "warning_signs",
        "1. Warning signs",
        "Thoughts, feelings or situations that tell me a crisis may be starting",
    ),
    Section(
        "coping",
        "2. Internal coping strategies",
        "Things I can do on my own to take my mind off my problems",
    ),
    Section(
        "distraction",
        "3. People and social settings that provide distraction",
        "People and places that help me feel better",
    ),
    Section(
        "help_people", "4. People I can ask for help", "People I can call or text and ask for help"
    ),
    Section(
        "professionals",
        "5. Professionals and agencies to contact",
        "Clinicians and services I can contact in a crisis",
    ),
    Section(
        "environment", "6. Making the environment safe", "How I will keep myself safe where I am"
    ),
)

SECTION_KEYS = tuple(section.key for section in SECTIONS)

CRISIS_LINE = "988 Suicide & Crisis Lifeline: call or text 988 (24 hours)"


def lines(text: str) -> list[str]:
    """One item a line; blank lines dropped, spaces trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def professionals_with_crisis_line(items: list[str]) -> list[str]:
    """The professionals section, with the 988 Lifeline added once unless already named."""
    if any("988" in item for item in items):
        return items
    return [*items, CRISIS_LINE]


def missing_sections(plan: dict[str, list[str]]) -> list[str]:
    """The sections with nothing written: a safety plan is signed with every step filled in
    (Stanley & Brown 2012: each step is worked through with the patient)."""
    return [section.title for section in SECTIONS if not plan.get(section.key)]
