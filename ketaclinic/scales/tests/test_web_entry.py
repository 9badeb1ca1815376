"""Staff keying in answers through the web form: scored as the pure function scores, errors
shown beside the items, licensed wording never shown."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.scales import instruments
from ketaclinic.scales.forms import InstrumentForm
from ketaclinic.scales.instruments import Instrument
from ketaclinic.scales.models import Administration
from ketaclinic.scales.scoring import score
from ketaclinic.testing import Clinic


def form_data(instrument: Instrument, answers: dict[str, int], **extra: str) -> dict[str, str]:
    data = {f"{instrument.code}-{link_id}": str(value) for link_id, value in answers.items()}
    data.update(extra)
    return data


def when(days_ago: int = 0) -> str:
    moment = timezone.localtime() - timedelta(days=days_ago, minutes=1)
    return moment.strftime("%Y-%m-%dT%H:%M")


def enter_url(clinic: Clinic, code: str) -> str:
    return f"/scales/patients/{clinic.pat.pk}/enter/{code}/"


def random_answers(instrument: Instrument, rng: random.Random) -> dict[str, int]:
    return {item.link_id: rng.choice(item.weights) for item in instrument.items}


@pytest.mark.parametrize("code", ["gad7", "phq9", "hama", "spin", "ybocs"])
def test_the_form_cleans_to_the_answers_the_pure_function_scores(code: str) -> None:
    instrument = instruments.get(code)
    answers = random_answers(instrument, random.Random(code))  # noqa: S311  test data, not secrets
    form = InstrumentForm(form_data(instrument, answers), instrument=instrument)
    assert form.is_valid(), form.errors
    assert form.answers() == answers
    assert score(instrument, form.answers()).total == sum(answers.values())


def test_two_hundred_random_gad7_and_phq9_responses_score_as_the_pure_function(
    clinic: Clinic,
) -> None:
    rng = random.Random(20260105)  # noqa: S311  reproducible test data, not secrets
    client = clinic.client("ben")
    expected: list[tuple[str, int | None, str | None]] = []
    for n in range(200):
        instrument = instruments.get("gad7" if n % 2 else "phq9")
        answers = random_answers(instrument, rng)
        response = client.post(
            enter_url(clinic, instrument.code),
            form_data(instrument, answers, administered_at=when()),
        )
        assert response.status_code == 302, response.content[:500]
        result = score(instrument, answers)
        expected.append((instrument.code, result.total, result.band))
    stored = [
        (a.instrument, a.total, a.band or None)
        for a in Administration.objects.order_by("created_at")
    ]
    assert stored == expected
    assert {a.mode for a in Administration.objects.all()} == {"staff_entry"}
    assert {a.entered_by_id for a in Administration.objects.all()} == {clinic.users["ben"].pk}


def test_a_missing_item_is_marked_beside_it_and_nothing_is_stored(clinic: Clinic) -> None:
    instrument = instruments.get("gad7")
    answers = {str(n): 1 for n in range(1, 7)}  # item 7 missing
    response = clinic.client("ben").post(
        enter_url(clinic, "gad7"), form_data(instrument, answers, administered_at=when())
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_gad7-7_errors"' in html
    assert "Please answer this question." in html
    assert 'aria-describedby="id_gad7-7_errors"' in html
    assert not Administration.objects.exists()


def test_a_future_moment_is_refused_beside_the_field(clinic: Clinic) -> None:
    instrument = instruments.get("gad7")
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = clinic.client("ben").post(
        enter_url(clinic, "gad7"),
        form_data(instrument, {str(n): 0 for n in range(1, 8)}, administered_at=future),
    )
    assert response.status_code == 422
    assert "must not be in the future" in response.content.decode()
    assert not Administration.objects.exists()


def test_free_scales_show_the_official_wording_and_anchors(clinic: Clinic) -> None:
    html = clinic.client("ben").get(enter_url(clinic, "gad7")).content.decode()
    assert "Feeling nervous, anxious, or on edge" in html
    assert "More than half the days" in html
    assert "Not at all sure" not in html  # Zorowitz 2021: the wrong anchor
    assert html.count('type="radio"') == 7 * 4


def test_copyrighted_scales_show_item_numbers_and_numbers_only(clinic: Clinic) -> None:
    response = clinic.client("ben").get(enter_url(clinic, "spin"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Item 1" in html and "Item 17" in html
    spin = instruments.get("spin")
    assert all(item.text is None for item in spin.items)
    form = InstrumentForm(instrument=spin)
    for field in form.fields.values():
        assert [label for _, label in field.choices] == ["0", "1", "2", "3", "4"]  # type: ignore[attr-defined]


def test_every_input_has_a_label(clinic: Clinic) -> None:
    html = clinic.client("ben").get(enter_url(clinic, "phq9")).content.decode()
    ids = re.findall(r'<input[^>]*type="radio"[^>]*id="([^"]+)"', html)
    assert ids
    for input_id in ids:
        assert f'for="{input_id}"' in html


def test_cssrs_skip_logic_through_the_form(clinic: Clinic) -> None:
    instrument = instruments.get("cssrs_screener")
    first, second = instrument.items[0].link_id, instrument.items[1].link_id
    answers: dict[str, Any] = {first: 0, second: 0}
    for item in instrument.items[2:]:
        if not item.enable_when:
            answers[item.link_id] = 0
    response = clinic.client("ada").post(
        enter_url(clinic, "cssrs_screener"),
        form_data(instrument, answers, administered_at=when()),
    )
    assert response.status_code == 302
    administration = Administration.objects.get()
    assert administration.risk_level == score(instrument, answers).risk_level


def test_a_patient_cannot_enter_scales(clinic: Clinic) -> None:
    response = clinic.client("pat").get(enter_url(clinic, "gad7"))
    assert response.status_code == 403


def test_an_unknown_instrument_is_not_found(clinic: Clinic) -> None:
    assert clinic.client("ben").get(enter_url(clinic, "nope")).status_code == 404
