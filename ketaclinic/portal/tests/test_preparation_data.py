"""The protocol data's optional "preparation" block (what the portal tells a patient before a
session): every shipped protocol has it with a source for each number, and bad values are
refused with the path, as for the rest of the protocol data. No database."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from ketaclinic.infusions.protocols import (
    INTRANASAL_ESKETAMINE_56_MG,
    IV_RACEMIC_0_5_MG_KG_40_MIN,
    ProtocolDataError,
    protocol_from_json,
    shipped_protocol,
    shipped_protocols,
)
from ketaclinic.infusions.protocols.loader import SHIPPED_FILES


def test_every_shipped_protocol_says_how_to_prepare_with_sources() -> None:
    for protocol in shipped_protocols():
        preparation = protocol.preparation
        assert preparation is not None, protocol.code
        for sourced in (
            preparation.no_food_minutes,
            preparation.no_drinks_minutes,
            preparation.no_driving_until_next_day,
        ):
            assert sourced.source.strip(), protocol.code
        assert preparation.no_drinks_minutes.value <= preparation.no_food_minutes.value
        assert preparation.no_driving_until_next_day.value is True


def test_the_shipped_numbers() -> None:
    iv = shipped_protocol(IV_RACEMIC_0_5_MG_KG_40_MIN).preparation
    nasal = shipped_protocol(INTRANASAL_ESKETAMINE_56_MG).preparation
    assert iv is not None and nasal is not None
    assert (iv.no_food_minutes.value, iv.no_drinks_minutes.value) == (360, 120)  # ASA 2017
    assert (nasal.no_food_minutes.value, nasal.no_drinks_minutes.value) == (120, 30)  # label


def _iv() -> dict[str, object]:
    package = resources.files("ketaclinic.infusions.protocols")
    data: dict[str, object] = json.loads((package / SHIPPED_FILES[0]).read_text("utf-8"))
    return data


def test_a_protocol_without_preparation_still_loads() -> None:
    data = _iv()
    data.pop("preparation")
    assert protocol_from_json(json.dumps(data)).preparation is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"no_food_minutes": {"value": -1, "source": "x"}}, "preparation.no_food_minutes.value"),
        ({"no_drinks_minutes": {"value": 30}}, "preparation.no_drinks_minutes: missing source"),
        (
            {"no_driving_until_next_day": {"value": "yes", "source": "x"}},
            "preparation.no_driving_until_next_day.value",
        ),
        ({"snacks": 1}, "preparation: unknown key snacks"),
    ],
)
def test_bad_preparation_data_is_refused_with_its_path(
    change: dict[str, object], path: str
) -> None:
    data = _iv()
    preparation = dict(data["preparation"])  # type: ignore[call-overload]
    preparation.update(change)
    data["preparation"] = preparation
    with pytest.raises(ProtocolDataError, match=path):
        protocol_from_json(json.dumps(data))


@pytest.mark.django_db
def test_a_clinic_on_the_shipped_text_without_preparation_gets_a_new_version_with_it() -> None:
    """Migration courses/0005: an unedited shipped version without the block is followed by a
    new version with it (the portal can then tell the patient how to prepare); a second run
    changes nothing; a clinic's own version is left alone."""
    import importlib

    from django.apps import apps

    from ketaclinic.courses.models import Protocol as ProtocolRow
    from ketaclinic.courses.tests.conftest import shipped_rows_ensure

    shipped_rows_ensure()
    migration = importlib.import_module(
        "ketaclinic.courses.migrations.0005_shipped_protocols_preparation"
    )
    package = resources.files("ketaclinic.infusions.protocols")
    name = next(n for n in SHIPPED_FILES if n.startswith("iv_racemic"))
    old = json.loads((package / name).read_text(encoding="utf-8"))
    del old["preparation"]  # the text as shipped before the portal
    row = ProtocolRow.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    ProtocolRow.objects.filter(pk=row.pk).update(definition_json=json.dumps(old), version=1)
    assert ProtocolRow.objects.get(pk=row.pk).definition().preparation is None

    migration.add_shipped_versions(apps, None)
    newest = ProtocolRow.objects.get(code=IV_RACEMIC_0_5_MG_KG_40_MIN, active=True)
    assert newest.version == 2
    assert newest.definition().preparation is not None
    assert not ProtocolRow.objects.get(pk=row.pk).active
    migration.add_shipped_versions(apps, None)  # again: nothing more to do
    assert ProtocolRow.objects.filter(code=IV_RACEMIC_0_5_MG_KG_40_MIN).count() == 2

    # A clinic's own version (created by someone, not shipped) keeps its text.
    esketamine = ProtocolRow.objects.get(code=INTRANASAL_ESKETAMINE_56_MG, active=True)
    own = json.loads(esketamine.definition_json)
    del own["preparation"]
    ProtocolRow.objects.filter(pk=esketamine.pk).update(
        definition_json=json.dumps(own), source="the clinic's own edit"
    )
    migration.add_shipped_versions(apps, None)
    assert ProtocolRow.objects.get(code=INTRANASAL_ESKETAMINE_56_MG, active=True).pk == (
        esketamine.pk
    )
