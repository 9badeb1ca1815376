"""The anonymous self-screen: GAD-7 and PHQ-9 from the built-in definitions, scored by the
scales' pure scoring, with crisis resources first when PHQ-9 item 9 is above 0; incomplete
answers refused with the list; nothing stored anywhere; results carried to the inquiry form in
a signed token, rescored when the inquiry is stored."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.intake.models import Inquiry
from ketaclinic.intake.self_screen import self_screen_score
from ketaclinic.intake.self_screen.token import SALT, self_screen_token_make

pytestmark = pytest.mark.django_db

URL = "/clinic/self-screen/"
INQUIRY = "/clinic/inquiry/"
ITEMS = {"gad7": 7, "phq9": 9}
CONTACT = {
    "name": "Sam Screened",
    "email": "sam@example.org",
    "preferred_contact": "email",
    "consent_to_contact": "on",
}


def answers_for(code: str, total: int, *, item9: int = 0) -> dict[str, int]:
    """Answers (link id "1".."n" -> 0..3) adding up to ``total``; PHQ-9 item 9 set apart."""
    count = ITEMS[code]
    answers = {str(n): 0 for n in range(1, count + 1)}
    rest = total
    if code == "phq9":
        answers["9"] = item9
        rest -= item9
        count -= 1
    for n in range(1, count + 1):
        answers[str(n)] = min(3, rest)
        rest -= answers[str(n)]
    assert rest == 0, "total out of reach"
    return answers


def post_answers(client: Client, by_code: dict[str, dict[str, int]]) -> Any:
    data: dict[str, Any] = {"step": "answer", "instruments": list(by_code)}
    for code, answers in by_code.items():
        data |= {f"{code}-{link_id}": str(value) for link_id, value in answers.items()}
    return client.post(URL, data)


def token_in(html: str) -> str:
    match = re.search(r'name="self_screen_token" value="([^"]+)"', html)
    assert match is not None, "no token on the page"
    return match.group(1)


def test_start_page_offers_both_questionnaires_and_posts() -> None:
    response = Client().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "GAD-7, 7 questions" in html
    assert "PHQ-9, 9 questions" in html
    assert 'method="post"' in html
    assert "not a diagnosis" in html


@pytest.mark.parametrize(("codes", "items"), [(["gad7"], 7), (["phq9"], 9), (["gad7", "phq9"], 16)])
def test_chosen_questionnaires_show_their_official_items_and_anchors(
    codes: list[str], items: int
) -> None:
    response = Client().post(URL, {"step": "choose", "instruments": codes})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<fieldset class="item"') == items
    for anchor in ("Not at all", "Several days", "More than half the days", "Nearly every day"):
        assert html.count(f"<span>{anchor}</span>") == items
    assert "Not at all sure" not in html
    if "gad7" in codes:
        assert "1. Feeling nervous, anxious, or on edge" in html
    if "phq9" in codes:
        assert "9. Thoughts that you would be better off dead or of hurting yourself" in html
    assert ("PHQ-9" in html) is ("phq9" in codes)


def test_choosing_nothing_asks_for_a_choice() -> None:
    response = Client().post(URL, {"step": "choose"})
    assert response.status_code == 200
    assert "Choose at least one questionnaire." in response.content.decode()


def test_an_unknown_questionnaire_cannot_be_chosen() -> None:
    response = Client().post(URL, {"step": "choose", "instruments": ["hama"]})
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("code", "total", "band"),
    [
        ("gad7", 0, "minimal"),
        ("gad7", 4, "minimal"),
        ("gad7", 5, "mild"),
        ("gad7", 9, "mild"),
        ("gad7", 10, "moderate"),
        ("gad7", 14, "moderate"),
        ("gad7", 15, "severe"),
        ("gad7", 21, "severe"),
        ("phq9", 0, "none to minimal"),
        ("phq9", 4, "none to minimal"),
        ("phq9", 5, "mild"),
        ("phq9", 9, "mild"),
        ("phq9", 10, "moderate"),
        ("phq9", 14, "moderate"),
        ("phq9", 15, "moderately severe"),
        ("phq9", 19, "moderately severe"),
        ("phq9", 20, "severe"),
        ("phq9", 24, "severe"),
    ],
)
def test_result_shows_total_and_band_at_each_boundary(code: str, total: int, band: str) -> None:
    response = post_answers(Client(), {code: answers_for(code, total)})
    assert response.status_code == 200
    html = response.content.decode()
    maximum = {"gad7": 21, "phq9": 27}[code]
    assert f"Your score: <strong>{total}</strong> out of {maximum}" in html
    assert f"in the <strong>{band}</strong> range" in html
    assert "A screen, not a diagnosis" in html
    assert "please talk to a clinician" in html
    # GAD-7's screen-positive cut-off (>= 10, Spitzer 2006) comes from its definition.
    assert ("10 or more (screen positive)" in html) is (code == "gad7" and total >= 10)


def test_result_lists_the_bands_in_words_and_marks_the_persons() -> None:
    html = post_answers(Client(), {"phq9": answers_for("phq9", 3)}).content.decode()
    yours = '<li class="screen-band-yours">0 to 4: none to minimal <strong>(your score)</strong>'
    assert yours in html
    assert "<li>20 to 27: severe</li>" in html


def test_both_questionnaires_are_scored_together() -> None:
    response = post_answers(
        Client(), {"gad7": answers_for("gad7", 12), "phq9": answers_for("phq9", 7)}
    )
    html = response.content.decode()
    assert "Your score: <strong>12</strong> out of 21" in html
    assert "Your score: <strong>7</strong> out of 27" in html


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_item_9_above_0_puts_crisis_resources_first(item9: int) -> None:
    response = post_answers(Client(), {"phq9": answers_for("phq9", 3 + item9, item9=item9)})
    html = response.content.decode()
    main = html[html.index('<main id="main"') :]
    crisis = main.index('class="crisis-urgent"')
    assert crisis < main.index("<h1>Your self-screen results</h1>")
    assert crisis < main.index("Your score:")
    urgent = main[crisis : main.index("</section>", crisis)]
    for needed in ('href="tel:988"', 'href="sms:988"', 'href="tel:911"', "emergency room"):
        assert needed in urgent
    assert 'role="alert"' in urgent
    assert "You answered question 9" in html


def test_item_9_at_0_shows_no_crisis_block_even_with_a_high_total() -> None:
    response = post_answers(Client(), {"phq9": answers_for("phq9", 24, item9=0)})
    html = response.content.decode()
    assert "crisis-urgent" not in html
    assert "You answered question 9" not in html
    assert "In a crisis? Do not wait for us." in html  # the site's usual notice stays


def test_item_9_answers_above_0_are_marked_for_the_inline_crisis_notice() -> None:
    html = Client().post(URL, {"step": "choose", "instruments": ["phq9"]}).content.decode()
    marked = set(re.findall(r'<input[^>]*name="phq9-9"[^>]*value="(\d)"[^>]*data-crisis', html))
    marked |= set(re.findall(r'<input[^>]*data-crisis[^>]*name="phq9-9"[^>]*value="(\d)"', html))
    assert marked == {"1", "2", "3"}
    assert html.count("data-crisis") == 3  # no other item raises it
    assert 'id="phq9-item-9-crisis"' in html
    assert "988" in html[html.index('id="phq9-item-9-crisis"') :]


def test_incomplete_answers_are_refused_with_the_list_and_kept() -> None:
    answers = answers_for("gad7", 6)
    del answers["3"], answers["7"]
    response = post_answers(Client(), {"gad7": answers, "phq9": {"1": 2}})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some questions need an answer" in html
    start = html.index('class="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    listed = re.findall(r'href="#(\w+-item-\d)"', summary)
    assert listed == ["gad7-item-3", "gad7-item-7"] + [f"phq9-item-{n}" for n in range(2, 10)]
    assert "GAD-7 question 3. Worrying too much about different things" in summary
    assert "Your score:" not in html
    # The answers given are still chosen.
    assert re.search(r'name="gad7-1" value="3"[^>]*checked', html)
    assert re.search(r'name="phq9-1" value="2"[^>]*checked', html)
    assert 'id="gad7-item-3"' in html


def test_an_out_of_range_answer_is_refused_not_scored() -> None:
    answers: dict[str, Any] = dict(answers_for("gad7", 6))
    answers["1"] = 7
    response = post_answers(Client(), {"gad7": answers})
    html = response.content.decode()
    assert "Your score:" not in html
    assert 'href="#gad7-item-1"' in html


def test_the_self_screen_stores_nothing_and_keeps_nothing_in_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inquiries, events = Inquiry.objects.count(), AuditEvent.objects.count()
    client = Client()
    caplog.set_level(logging.DEBUG)
    assert client.get(URL).status_code == 200
    client.post(URL, {"step": "choose", "instruments": ["gad7", "phq9"]})
    post_answers(client, {"gad7": {"1": 1}})
    response = post_answers(
        client, {"gad7": answers_for("gad7", 13), "phq9": answers_for("phq9", 11, item9=2)}
    )
    assert "Your score: <strong>13</strong>" in response.content.decode()
    assert Inquiry.objects.count() == inquiries
    assert AuditEvent.objects.count() == events
    assert Session.objects.count() == 0
    assert "sessionid" not in client.cookies
    assert dict(client.session) == {}
    assert "no-store" in response["Cache-Control"]
    for record in caplog.records:
        assert "phq9" not in record.getMessage()
        assert "gad7" not in record.getMessage()


def test_the_forms_post_and_put_nothing_in_urls() -> None:
    for html in (
        Client().get(URL).content.decode(),
        Client().post(URL, {"step": "choose", "instruments": ["gad7"]}).content.decode(),
        post_answers(Client(), {"gad7": answers_for("gad7", 3)}).content.decode(),
    ):
        for form in re.findall(r"<form[^>]*>", html):
            if "logout" in form:
                continue
            assert 'method="post"' in form
            assert "?" not in form


def test_get_with_answers_in_the_query_string_scores_nothing() -> None:
    response = Client().get(URL, {"step": "answer", "instruments": "gad7", "gad7-1": "3"})
    assert response.status_code == 200
    assert "Your score:" not in response.content.decode()


# --- attaching the results to an inquiry ----------------------------------------------------


def _result_token(by_code: dict[str, dict[str, int]]) -> str:
    return token_in(post_answers(Client(), by_code).content.decode())


def test_send_with_results_opens_the_inquiry_form_with_a_summary_and_no_errors() -> None:
    token = _result_token({"gad7": answers_for("gad7", 11), "phq9": answers_for("phq9", 6)})
    response = Client().post(INQUIRY, {"self_screen_token": token, "self_screen_start": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your self-screen results" in html
    assert "Anxiety (GAD-7): <strong>11</strong> out of 21" in html
    assert "Depression (PHQ-9): <strong>6</strong> out of 27" in html
    assert "Send these self-screen results with my inquiry" in html
    assert re.search(r'name="attach_self_screen"[^>]*checked', html)
    assert "errorlist" not in html
    assert token_in(html) == token
    assert Inquiry.objects.count() == 0
    assert "no-store" in response["Cache-Control"]


def test_inquiry_with_attached_results_stores_them_rescored() -> None:
    gad7, phq9 = answers_for("gad7", 15), answers_for("phq9", 9, item9=1)
    token = _result_token({"gad7": gad7, "phq9": phq9})
    response = Client().post(
        INQUIRY, {**CONTACT, "self_screen_token": token, "attach_self_screen": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    inquiry = Inquiry.objects.get()
    # When the person answered (from the signed token) travels with each record (issue 12.4).
    assert all(record.pop("taken_at") for record in inquiry.self_screen)
    assert inquiry.self_screen == [
        {"instrument": "gad7", "answers": gad7, "total": 15, "band": "severe"},
        {
            "instrument": "phq9",
            "answers": phq9,
            "total": 9,
            "band": "mild",
            "item9_positive": True,
        },
    ]


def test_unticking_the_box_sends_the_inquiry_without_results() -> None:
    token = _result_token({"gad7": answers_for("gad7", 15)})
    response = Client().post(INQUIRY, {**CONTACT, "self_screen_token": token})
    assert response.status_code == 302
    assert Inquiry.objects.get().self_screen == []


def test_attached_item_9_shows_crisis_resources_on_the_inquiry_form() -> None:
    token = _result_token({"phq9": answers_for("phq9", 5, item9=2)})
    html = Client().post(INQUIRY, {"self_screen_token": token, "self_screen_start": "1"})
    page = html.content.decode()
    main = page[page.index('<main id="main"') :]
    assert main.index('class="crisis-urgent"') < main.index("<h1>Ask about treatment</h1>")


def _tampered(token: str) -> str:
    head, _, signature = token.rpartition(":")
    return f"{head}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda t: _tampered(t), id="changed signature"),
        pytest.param(lambda t: t.replace(t[1], "x" if t[1] != "x" else "y", 1), id="changed data"),
        pytest.param(lambda t: "not-a-token", id="garbage"),
        pytest.param(lambda t: "x" * 5000, id="too long"),
    ],
)
def test_a_tampered_token_is_a_clear_form_error_not_a_500(bad: Any) -> None:
    token = bad(_result_token({"gad7": answers_for("gad7", 15)}))
    start = Client().post(INQUIRY, {"self_screen_token": token, "self_screen_start": "1"})
    assert start.status_code == 200
    assert "were changed or damaged" in start.content.decode()
    response = Client().post(
        INQUIRY, {**CONTACT, "self_screen_token": token, "attach_self_screen": "on"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_attach_self_screen_errors"' in html
    assert "were changed or damaged" in html
    assert Inquiry.objects.count() == 0


def test_an_expired_token_is_a_clear_form_error(monkeypatch: pytest.MonkeyPatch) -> None:
    made_at = time.time() - 2 * 3600 - 5
    with monkeypatch.context() as patch:
        patch.setattr("django.core.signing.time.time", lambda: made_at)
        token = self_screen_token_make([self_screen_score("gad7", answers_for("gad7", 15))])
    response = Client().post(
        INQUIRY, {**CONTACT, "self_screen_token": token, "attach_self_screen": "on"}
    )
    assert response.status_code == 200
    assert "more than 2 hours old" in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_a_signed_token_with_incomplete_answers_is_refused() -> None:
    # Signed with the real key (as if the scoring rules had changed since): rescored, refused.
    token = signing.dumps(
        {"v": 1, "screens": [{"instrument": "gad7", "answers": {"1": 3}}]}, salt=SALT
    )
    response = Client().post(
        INQUIRY, {**CONTACT, "self_screen_token": token, "attach_self_screen": "on"}
    )
    assert response.status_code == 200
    assert 'id="id_attach_self_screen_errors"' in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_a_token_signed_for_something_else_is_refused() -> None:
    token = signing.dumps({"v": 1, "screens": [{"instrument": "gad7", "answers": {}}]})
    response = Client().post(INQUIRY, {"self_screen_token": token, "self_screen_start": "1"})
    assert "were changed or damaged" in response.content.decode()


def test_home_and_inquiry_pages_link_the_self_screen() -> None:
    for url in ("/clinic/", INQUIRY):
        assert f'href="{URL}"' in Client().get(url).content.decode()


def test_only_get_head_and_post_are_answered() -> None:
    assert Client().head(URL).status_code == 200
    assert Client().put(URL).status_code == 405
