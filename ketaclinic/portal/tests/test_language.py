"""English and Spanish: the language switch, the patient's language kept on their record,
staff pages always English, every patient-facing page in Spanish, and the validated
questionnaires in their official Spanish wording, scored exactly as in English."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.infusions.tests.chart_driver import session_make
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.portal.models import LanguagePreference
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import translations
from ketaclinic.scales.models import Administration, RuleKind
from ketaclinic.scales.schedules import schedule_create
from ketaclinic.scales.scoring import score
from ketaclinic.site.models import Page
from ketaclinic.site.translated import CONTENT_DIR
from ketaclinic.testing import Clinic, make_patient

COOKIE = settings.LANGUAGE_COOKIE_NAME


def _html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', page)
    assert found, "no lang on <html>"
    return found.group(1)


def _switch(client: Client, language: str, next_url: str = "/") -> Any:
    return client.post("/i18n/language/", {"language": language, "next": next_url})


def _schedule(clinic: Clinic, code: str) -> None:
    schedule_create(
        acting_user=clinic.users["ada"],
        patient=clinic.pat,
        instrument_code=code,
        rule_kind=RuleKind.INTERVAL,
        interval_days=14,
        starts_on=timezone.localdate() - timedelta(days=1),
    )


def test_a_visitor_switches_to_spanish_and_the_cookie_keeps_it(clinic: Clinic) -> None:
    visitor = clinic.client(None)
    english = visitor.get("/clinic/").content.decode()
    assert _html_lang(english) == "en"
    assert "Español" in english and 'value="es"' in english
    response = _switch(visitor, "es", "/clinic/self-screen/")
    assert response.status_code == 302 and response["Location"] == "/clinic/self-screen/"
    assert visitor.cookies[COOKIE].value == "es"
    page = visitor.get("/clinic/").content.decode()
    assert _html_lang(page) == "es"
    assert "Pregunte por el tratamiento" in page
    assert "¿Está en una crisis? No nos espere." in page
    # The switch back names English, in English.
    assert 'value="en"' in page and 'lang="en"' in page
    _switch(visitor, "en")
    assert _html_lang(visitor.get("/clinic/").content.decode()) == "en"


def test_the_switch_refuses_a_redirect_off_the_site(clinic: Clinic) -> None:
    response = _switch(clinic.client(None), "es", "https://elsewhere.example/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_patient_s_language_is_kept_on_their_record_and_follows_them(clinic: Clinic) -> None:
    pat = clinic.client("pat")
    assert _switch(pat, "es", "/portal/").status_code == 302
    kept = LanguagePreference.objects.get(patient=clinic.pat)
    assert kept.language == "es"
    assert AuditEvent.objects.filter(
        object_type="LanguagePreference", patient_id=clinic.pat.pk, action="U"
    ).exists()
    # Another device: no cookie; signed in, the portal is in Spanish, and the cookie is set
    # so that the pages after signing out stay Spanish.
    other = clinic.client("pat")
    assert COOKIE not in other.cookies
    response = other.get("/portal/")
    page = response.content.decode()
    assert _html_lang(page) == "es"
    assert f"Hola, {clinic.pat.given_name}" in page
    assert "Sus próximas sesiones" in page
    assert other.cookies[COOKIE].value == "es"
    other.post("/account/logout/")
    assert _html_lang(other.get("/clinic/").content.decode()) == "es"


def test_the_kept_language_wins_over_a_cookie_from_before(clinic: Clinic) -> None:
    LanguagePreference.objects.create(patient=clinic.pat, language="en")
    pat = clinic.client("pat")
    pat.cookies[COOKIE] = "es"
    assert _html_lang(pat.get("/portal/").content.decode()) == "en"


@pytest.mark.parametrize("username", ["ada", "ben", "dana"])
def test_staff_pages_stay_english_whatever_the_cookie(clinic: Clinic, username: str) -> None:
    staff = clinic.client(username)
    staff.cookies[COOKIE] = "es"
    _switch(staff, "es")
    page = staff.get("/today/").content.decode()
    assert _html_lang(page) == "en"
    assert "Log out" in page and "Cerrar sesión" not in page
    assert not LanguagePreference.objects.exists()


def _pat_in_spanish(clinic: Clinic) -> Client:
    LanguagePreference.objects.create(patient=clinic.pat, language="es")
    return clinic.client("pat")


def test_every_portal_page_renders_in_spanish(clinic: Clinic) -> None:
    session = session_make(
        clinic,
        start=(timezone.localtime() + timedelta(days=1)).replace(hour=9, minute=0, second=0),
    )
    _schedule(clinic, "gad7")
    pat = _pat_in_spanish(clinic)
    expected = {
        "/portal/": [
            "Cuestionarios por completar",
            "Completar el GAD-7",
            "Antes de venir",
            "No coma nada después de las <strong>03:00</strong>.",
            "Confirmar que alguien me llevará a casa",
        ],
        f"/portal/sessions/{session.pk}/ride/": ["Su regreso a casa", "¿Quién le llevará a casa?"],
        "/portal/questionnaires/gad7/": [
            "Su cuestionario",
            "Enviar respuestas",
            "Ha tenido dificultad para relajarse",
            "Más de la mitad de los días",
        ],
        "/portal/questionnaires-sent/": ["Sus respuestas se enviaron"],
        "/portal/scores/": ["Mis puntuaciones", "Todavía no tiene puntuaciones"],
        "/portal/contact/": ["Mis datos", "Contacto de emergencia", "Guardar"],
        "/portal/welcome/": ["Este enlace ya no funciona"],
        "/account/password/change/": ["Cambiar la contraseña"],
    }
    for url, phrases in expected.items():
        response = pat.get(url)
        page = response.content.decode()
        assert response.status_code in (200, 410), url
        assert _html_lang(page) == "es", url
        for phrase in phrases:
            assert phrase in page, (url, phrase)
        for english in ("Your care team", "Skip to content", "Log out"):
            assert english not in page, (url, english)


def test_dates_are_spanish_and_times_stay_24_hour(clinic: Clinic) -> None:
    start = (timezone.localtime() + timedelta(days=1)).replace(hour=15, minute=30, second=0)
    session_make(clinic, start=start)
    page = _pat_in_spanish(clinic).get("/portal/").content.decode()
    months = (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    )
    month = months.split()[start.month - 1]
    assert f"{start.day} de {month}, 15:30" in page
    assert "p.m." not in page and "PM" not in page


def test_the_public_pages_render_in_spanish(clinic: Clinic) -> None:
    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    page_slug = Page.objects.values_list("slug", flat=True).first()
    expected = {
        "/clinic/": ["Visítenos y contáctenos", "Hacer la autoevaluación anónima"],
        "/clinic/self-screen/": ["Autoevaluación anónima", "Antes de empezar"],
        "/clinic/inquiry/": ["Pregunte por el tratamiento", "Enviar consulta"],
        "/clinic/inquiry/thanks/": ["Hemos recibido su consulta"],
    }
    if page_slug:
        expected[f"/clinic/{page_slug}/"] = ["Última revisión"]
    for url, phrases in expected.items():
        response = visitor.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert _html_lang(page) == "es", url
        for phrase in phrases:
            assert phrase in page, (url, phrase)


def test_the_self_screen_questions_are_the_official_spanish_wording(clinic: Clinic) -> None:
    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    page = visitor.post(
        "/clinic/self-screen/", {"step": "choose", "instruments": ["gad7", "phq9"]}
    ).content.decode()
    assert translations.SPANISH["gad7"].items["1"] in page
    assert translations.SPANISH["phq9"].items["9"] in page
    assert "Ningún día" in page and "Nunca" in page


GAD7 = {"1": 3, "2": 2, "3": 1, "4": 0, "5": 3, "6": 2, "7": 1}
PHQ9 = {"1": 1, "2": 2, "3": 0, "4": 1, "5": 0, "6": 3, "7": 0, "8": 1, "9": 1}


@pytest.mark.parametrize(("code", "answers"), [("gad7", GAD7), ("phq9", PHQ9)])
def test_the_spanish_form_scores_like_the_english_one(code: str, answers: dict[str, int]) -> None:
    english = instruments.get(code)
    spanish = translations.localised(english, "es")
    assert spanish is not None and spanish.name != english.name
    assert spanish.link_ids == english.link_ids
    assert [i.weights for i in spanish.items] == [i.weights for i in english.items]
    assert score(spanish, answers) == score(english, answers)


def test_other_instruments_have_no_spanish_of_our_own() -> None:
    for code in instruments.BUILTIN_CODES:
        shown = translations.localised(instruments.get(code), "es")
        assert (shown is not None) == (code in {"gad7", "phq9"}), code
        assert translations.localised(instruments.get(code), "en") == instruments.get(code)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_same_answers_in_either_language_give_the_same_score_and_item9_flag(
    clinic: Clinic, language: str
) -> None:
    _schedule(clinic, "phq9")
    LanguagePreference.objects.create(patient=clinic.pat, language=language)
    pat = clinic.client("pat")
    data = {f"phq9-{k}": str(v) for k, v in PHQ9.items()}
    response = pat.post("/portal/questionnaires/phq9/", data, follow=True)
    administration = Administration.objects.get(patient=clinic.pat)
    assert administration.total == sum(PHQ9.values())
    assert SafetyFlag.objects.filter(patient=clinic.pat, status=FlagStatus.ACTIVE).count() == 1
    # The crisis notice in the patient's language.
    told = {
        "en": "Your care team has been told about your answer",
        "es": "Su equipo de atención ya sabe de su respuesta",
    }
    page = response.content.decode()
    assert 'href="tel:988"' in page and told[language] in page


def test_a_questionnaire_without_an_official_translation_is_english_with_a_note(
    clinic: Clinic,
) -> None:
    _schedule(clinic, "spin")
    page = _pat_in_spanish(clinic).get("/portal/questionnaires/spin/").content.decode()
    assert "Este cuestionario solo está disponible en inglés" in page
    assert '<div lang="en">' in page
    assert "Social Phobia Inventory (SPIN)" in page


def test_the_invitation_e_mail_and_welcome_page_are_in_the_patient_s_language(
    clinic: Clinic,
) -> None:
    """A patient who chose Spanish (asked the clinic, or on the public site before) and is
    invited again: the e-mail is in Spanish; the welcome page follows the visitor's cookie."""
    robin = make_patient(given_name="Robin", family_name="Invitee", email="robin@example.org")
    LanguagePreference.objects.create(patient=robin, language="es")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert clinic.client("cleo").post(f"/portal/invite/{robin.pk}/").status_code == 302
    message = mail.outbox[-1]
    assert message.subject == "Su cuenta de paciente en " + settings.KETACLINIC_CLINIC_NAME
    assert "Para elegir su contraseña, abra este enlace" in message.body
    link = re.search(r"http://testserver(/portal/welcome/\S+/\S+/)", str(message.body))
    assert link
    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    landing = visitor.get(link.group(1))
    page = visitor.get(landing["Location"]).content.decode()
    assert "Elija una contraseña para su cuenta de paciente" in page
    assert "Escríbala otra vez" in page


SHIPPED_PAGES = sorted(path.stem for path in CONTENT_DIR.glob("*.md"))


def _front(path: Path) -> tuple[dict[str, str], str]:
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return meta, body


def test_every_shipped_public_page_has_its_spanish_with_the_same_structure() -> None:
    """Same order on the site, same number of sections and list items, the same links and
    the same numbered sources as the English page."""
    assert len(SHIPPED_PAGES) == 8
    for slug in SHIPPED_PAGES:
        english_meta, english = _front(CONTENT_DIR / f"{slug}.md")
        spanish_meta, spanish = _front(CONTENT_DIR / "es" / f"{slug}.md")
        assert spanish_meta["position"] == english_meta["position"], slug
        assert spanish_meta["title"] and spanish_meta["summary"], slug
        for pattern in (r"^## ", r"^- ", r"^\d+\. ", r"\]\((/[^)]*)\)", r"\[[\d, ]+\]"):
            flags = re.MULTILINE
            assert re.findall(pattern, spanish, flags) == re.findall(pattern, english, flags), (
                slug,
                pattern,
            )


@pytest.mark.parametrize("slug", SHIPPED_PAGES)
def test_a_shipped_public_page_renders_in_spanish(clinic: Clinic, slug: str) -> None:
    spanish_meta, spanish = _front(CONTENT_DIR / "es" / f"{slug}.md")
    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    response = visitor.get(f"/clinic/{slug}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert _html_lang(page) == "es"
    assert f"<h1>{spanish_meta['title']}</h1>" in page
    for heading in re.findall(r"^## (.+)$", spanish, re.MULTILINE):
        assert f">{heading}</h2>" in page, heading
    assert "## " not in page
    assert "solo está disponible en inglés" not in page and '<div lang="en">' not in page
    for slug_other in SHIPPED_PAGES:  # every page's link in the list, under its Spanish title
        title = _front(CONTENT_DIR / "es" / f"{slug_other}.md")[0]["title"]
        assert f'href="/clinic/{slug_other}/"' in page and title in page


def test_a_shipped_public_page_is_in_spanish_until_the_english_is_edited(clinic: Clinic) -> None:
    from ketaclinic.site.services import page_update

    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    page = visitor.get("/clinic/ocd/").content.decode()
    assert "Trastorno obsesivo-compulsivo (TOC)" in page and "## " not in page
    assert "La ketamina no está aprobada por la FDA" in page
    assert "solo está disponible en inglés" not in page
    assert "(en inglés)" not in visitor.get("/clinic/").content.decode()
    # An administrator changes the English: the old translation is no longer shown, the
    # English page is, marked, with the note in Spanish.
    ocd = Page.objects.get(slug="ocd")
    page_update(
        acting_user=clinic.users["dana"],
        page=ocd,
        title=ocd.title,
        summary=ocd.summary,
        body=ocd.body + "\nA new paragraph.\n",
    )
    edited = visitor.get("/clinic/ocd/").content.decode()
    assert "A new paragraph." in edited and "solo está disponible en inglés" in edited
    assert '<div lang="en">' in edited
    assert "(en inglés)" in visitor.get("/clinic/").content.decode()


def test_the_fhir_questionnaire_carries_the_official_spanish_as_translations() -> None:
    from fhir.resources.R4B.questionnaire import Questionnaire

    from ketaclinic.fhir.questionnaire import TRANSLATION, builtin_questionnaire

    resource = builtin_questionnaire(instruments.get("gad7"), "https://clinic.example/fhir")
    Questionnaire.model_validate(resource)

    def content(element: dict[str, Any]) -> dict[str, str]:
        found = {}
        for extension in element["extension"]:
            assert extension["url"] == TRANSLATION
            parts = {part["url"]: part for part in extension["extension"]}
            found[parts["lang"]["valueCode"]] = parts["content"]["valueString"]
        return found

    spanish = translations.SPANISH["gad7"]
    assert content(resource["_title"]) == {"es": spanish.name}
    first = resource["item"][0]
    assert content(first["_text"]) == {"es": spanish.items["1"]}
    displays = [content(o["valueCoding"]["_display"])["es"] for o in first["answerOption"]]
    assert displays == [spanish.answers[w] for w in range(4)]
    # No Spanish of our own for an instrument without an official translation.
    assert "_title" not in builtin_questionnaire(instruments.get("spin"), "https://x.example")


def _accept_invitation(clinic: Clinic, cookie: str, robin: Any) -> Client:
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert clinic.client("cleo").post(f"/portal/invite/{robin.pk}/").status_code == 302
    link = re.search(r"http://testserver(/portal/welcome/\S+/\S+/)", str(mail.outbox[-1].body))
    assert link
    visitor = clinic.client(None)
    if cookie:
        visitor.cookies[COOKIE] = cookie
    landing = visitor.get(link.group(1))
    password = "a-Long-enough-pass-2026"
    done = visitor.post(landing["Location"], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"] == "/portal/"
    return visitor


def _robin(email: str) -> Any:
    return make_patient(given_name="Robin", family_name="Early", email=email)


def test_the_language_chosen_before_the_account_is_kept_after_the_welcome(
    clinic: Clinic,
) -> None:
    robin = _robin("robin.e@example.org")
    visitor = _accept_invitation(clinic, "es", robin)
    kept = LanguagePreference.objects.get(patient=robin)
    assert kept.language == "es"
    assert AuditEvent.objects.filter(
        object_type="LanguagePreference", object_id=str(kept.pk), patient_id=robin.pk
    ).exists()
    home = visitor.get("/portal/").content.decode()
    assert _html_lang(home) == "es"
    assert "Hola, Robin" in home and "Hello, Robin" not in home
    # On a new device (no cookie), signed in again: still Spanish.
    visitor.logout()
    again = clinic.client(None)
    again.force_login(robin.user_account)
    assert _html_lang(again.get("/portal/").content.decode()) == "es"


def test_english_or_no_choice_before_the_account_keeps_nothing(clinic: Clinic) -> None:
    for n, cookie in enumerate(("", "en")):
        robin = _robin(f"robin{n}@example.org")
        visitor = _accept_invitation(clinic, cookie, robin)
        assert not LanguagePreference.objects.filter(patient=robin).exists()
        assert _html_lang(visitor.get("/portal/").content.decode()) == "en"


def test_a_language_the_clinic_kept_when_inviting_is_not_overwritten(clinic: Clinic) -> None:
    """Kept first (asked by the clinic) wins over a cookie on the welcome page."""
    robin = _robin("robin.k@example.org")
    LanguagePreference.objects.create(patient=robin, language="en")
    visitor = _accept_invitation(clinic, "es", robin)
    assert LanguagePreference.objects.get(patient=robin).language == "en"
    assert _html_lang(visitor.get("/portal/").content.decode()) == "en"
