"""The account pages a patient meets, in Spanish: two-factor setup, setup complete, backup
codes and turning it off (in the portal layout), and password reset (pages and e-mail).
Staff stay English whatever the browser's language cookie says."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.portal.models import LanguagePreference
from ketaclinic.testing import Clinic

COOKIE = settings.LANGUAGE_COOKIE_NAME


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', page)
    assert found
    return found.group(1)


def _pat_in_spanish(clinic: Clinic, *, with_device: bool = False) -> Client:
    LanguagePreference.objects.create(patient=clinic.pat, language="es")
    if with_device:  # signed in with it (the pages after setup ask for a verified session)
        clinic.totp["pat"] = TOTPDevice.objects.create(
            user=clinic.users["pat"], name="default", confirmed=True
        )
    return clinic.client("pat")


def _with_account_email(clinic: Clinic, username: str) -> str:
    user = clinic.users[username]
    user.email = f"{username}@example.org"
    user.save(update_fields=["email"])
    return user.email


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert _lang(page) == "es", url
    return page


def test_two_factor_setup_is_in_spanish_for_a_patient(clinic: Clinic) -> None:
    pat = _pat_in_spanish(clinic)
    page = _page(pat, "/account/two_factor/setup/")
    assert "Configurar la verificación en dos pasos" in page
    assert "Usted decide si la usa" in page
    assert "Clinicians and administrators" not in page
    assert '<body class="portal">' in page  # the portal layout, not the staff one
    step = pat.post("/account/two_factor/setup/", {"setup_view-current_step": "welcome"})
    page = step.content.decode()
    if "setup_view-current_step" in page and 'value="method"' in page:
        step = pat.post(
            "/account/two_factor/setup/",
            {"setup_view-current_step": "method", "method-method": "generator"},
        )
        page = step.content.decode()
    assert "escanee este código" in page
    assert "Código que muestra su aplicación de autenticación" in page
    assert "Escriba abajo el código de 6 dígitos" in page


def test_two_factor_complete_backup_codes_and_turn_off_are_in_spanish(clinic: Clinic) -> None:
    pat = _pat_in_spanish(clinic, with_device=True)
    user = clinic.users["pat"]
    complete = _page(pat, "/account/two_factor/setup/complete/")
    assert "La verificación en dos pasos está activada" in complete
    assert "Crear mis códigos de respaldo" in complete and "Más tarde" in complete
    codes = _page(pat, "/account/two_factor/backup/tokens/")
    assert "Todavía no tiene códigos de respaldo." in codes
    made = pat.post("/account/two_factor/backup/tokens/")
    assert made.status_code == 302
    codes = _page(pat, "/account/two_factor/backup/tokens/")
    assert "Cada código le permite iniciar sesión una vez" in codes
    assert "Crear códigos nuevos" in codes and "Volver a Seguridad" in codes
    assert StaticDevice.objects.get(user=user).token_set.count() == 10
    off = _page(pat, "/account/two_factor/disable/")
    assert "Sin ella, basta su contraseña para entrar a su cuenta." in off
    assert "Desactivarla" in off and "Mantenerla activada" in off
    for english in ("Turn it off", "Keep it on", "Backup codes", "Make my backup codes"):
        assert english not in off + codes + complete, english


def test_staff_two_factor_pages_stay_english_with_a_spanish_cookie(clinic: Clinic) -> None:
    ada = clinic.client("ada")
    ada.cookies[COOKIE] = "es"
    page = ada.get("/account/two_factor/backup/tokens/").content.decode()
    assert _lang(page) == "en" and "Backup codes" in page
    assert "códigos de respaldo" not in page


def test_password_reset_pages_and_e_mail_are_in_spanish(clinic: Clinic) -> None:
    LanguagePreference.objects.create(patient=clinic.pat, language="es")
    visitor = clinic.client(None)
    visitor.cookies[COOKIE] = "es"
    form = _page(visitor, "/account/password/reset/")
    assert "¿Olvidó su contraseña?" in form and "Enviar el enlace" in form
    assert 'name="language" value="en"' in form  # the language switch is on the page
    sent = visitor.post("/account/password/reset/", {"email": _with_account_email(clinic, "pat")})
    assert sent.status_code == 302
    done = _page(visitor, sent["Location"])
    assert "Revise su correo electrónico" in done and "Volver a iniciar sesión" in done
    message = mail.outbox[-1]
    assert message.subject == "KetaClinic: elija una contraseña nueva"
    assert "Para elegir una contraseña nueva, abra este enlace" in message.body
    assert "Si no fue usted" in message.body and "Hello" not in message.body
    link = re.search(r"http://testserver(/account/password/reset/\S+/\S+/)", str(message.body))
    assert link
    landing = visitor.get(link.group(1))
    confirm = _page(visitor, landing["Location"])
    assert "Elija una contraseña nueva" in confirm and "Guardar la contraseña nueva" in confirm
    password = "another-Long-pass-2026"
    saved = visitor.post(
        landing["Location"], {"new_password1": password, "new_password2": password}
    )
    assert saved.status_code == 302
    complete = _page(visitor, saved["Location"])
    assert "Su nueva contraseña se guardó" in complete
    spent = _page(visitor, link.group(1))
    assert "Este enlace ya se usó o ya venció." in spent and "Pedir un enlace nuevo" in spent


def test_the_reset_e_mail_follows_the_account_not_the_browser(clinic: Clinic) -> None:
    """A patient who kept Spanish gets it from an English page; staff get English from a
    Spanish one (their pages are English)."""
    LanguagePreference.objects.create(patient=clinic.pat, language="es")
    english_browser = clinic.client(None)
    english_browser.post("/account/password/reset/", {"email": _with_account_email(clinic, "pat")})
    assert mail.outbox[-1].subject == "KetaClinic: elija una contraseña nueva"
    spanish_browser = clinic.client(None)
    spanish_browser.cookies[COOKIE] = "es"
    spanish_browser.post("/account/password/reset/", {"email": _with_account_email(clinic, "ada")})
    assert mail.outbox[-1].subject == "KetaClinic: choose a new password"
    assert "To choose a new password, open this link" in mail.outbox[-1].body


def test_the_public_site_s_account_menu_is_in_spanish_for_a_patient(clinic: Clinic) -> None:
    """A signed-in patient on the public site meets the clinic's common layout: its account
    menu (their role, the links, signing out) in their language; staff's stays English."""
    pat = _pat_in_spanish(clinic)
    page = _page(pat, "/clinic/")
    assert "<small>Paciente</small>" in page
    for spanish in ("Sesión iniciada como", "Seguridad y verificación en dos pasos"):
        assert spanish in page, spanish
    assert "Cambiar la contraseña" in page and "Cerrar sesión" in page
    for english in ("<small>Patient</small>", "Log out", "Signed in as", "Change password"):
        assert english not in page, english
    ada = clinic.client("ada")
    ada.cookies[COOKIE] = "es"
    staff = ada.get("/clinic/").content.decode()
    assert _lang(staff) == "en"
    assert "Log out" in staff and "Signed in as" in staff and "Paciente" not in staff


def test_the_error_page_is_in_the_patient_s_language(clinic: Clinic) -> None:
    pat = _pat_in_spanish(clinic)
    response = pat.get("/portal/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert _lang(page) == "es"
    assert "Aquí no hay nada, o no tiene acceso." in page and "Volver a KetaClinic" in page
    ada = clinic.client("ada")
    ada.cookies[COOKIE] = "es"
    staff = ada.get("/patients/no-such-page/").content.decode()
    assert _lang(staff) == "en" and "There is nothing here" in staff
