"""Every Spanish catalogue shipped (ketaclinic/<app>/locale/es/, the project templates' in
ketaclinic/templates/locale/es/) is complete, and its compiled .mo says what its .po says.

Read with polib and Python's own gettext reader, so that the check runs where GNU gettext is
not installed (CI); `make messages` makes both files.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(PACKAGE.glob("*/locale/es/LC_MESSAGES/django.po"))


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_the_patient_facing_catalogues_are_there() -> None:
    found = {path.relative_to(PACKAGE).parts[0] for path in CATALOGUES}
    assert {"portal", "site", "templates"} <= found


@pytest.mark.parametrize("po_path", CATALOGUES, ids=_id)
def test_every_message_is_translated_and_none_is_fuzzy(po_path: Path) -> None:
    catalogue = polib.pofile(str(po_path))
    assert catalogue.metadata.get("Language") == "es"
    # Spanish has two plural forms, or three with CLDR's "many" (a million: Django's own
    # catalogue, which makemessages copies): either, as long as every entry fills them all.
    plural_forms = catalogue.metadata.get("Plural-Forms", "")
    assert "nplurals=2" in plural_forms or "nplurals=3" in plural_forms, plural_forms
    nplurals = 2 if "nplurals=2" in plural_forms else 3
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == [], f"{_id(po_path)}: not translated"
    assert fuzzy == [], f"{_id(po_path)}: fuzzy"
    for entry in catalogue:
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid
            assert len(entry.msgstr_plural) == nplurals, entry.msgid


@pytest.mark.parametrize("po_path", CATALOGUES, ids=_id)
def test_the_compiled_catalogue_matches_its_source(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{_id(po_path)}: not compiled (make messages)"
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in polib.pofile(str(po_path)).translated_entries():
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            for n, form in ((1, 0), (2, 1)):
                if entry.msgctxt:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                else:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                assert got == entry.msgstr_plural[form], entry.msgid
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
