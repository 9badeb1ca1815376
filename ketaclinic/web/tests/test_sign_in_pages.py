"""Sign-in, two-factor and password pages in the clinic's own templates (issue 13 item 8)."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from ketaclinic.testing import Clinic


def test_the_sign_in_page_is_the_clinics_with_forgot_password_and_the_public_site(db: None) -> None:
    html = Client().get("/account/login/").content.decode()
    assert "<h1>Sign in</h1>" in html
    assert 'href="/account/password/reset/"' in html and "Forgot your password?" in html
    assert 'href="/clinic/"' in html
    assert "<table" not in html and ">Next<" not in html and ">Login<" not in html
    assert ">Sign in</button>" in html


def test_a_forgotten_password_is_reset_by_email(clinic: Clinic) -> None:
    user = clinic.users["ben"]
    user.email = "ben@clinic.example.org"
    user.save(update_fields=["email"])
    response = Client().post("/account/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = str(mail.outbox[0].body)
    assert "choose a new password" in mail.outbox[0].subject
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", body)
    assert link is not None
    client = Client()
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase-42", "new_password2": "a-new-long-passphrase-42"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase-42")
    # An address without an account gets the same answer and no e-mail.
    assert Client().post("/account/password/reset/", {"email": "x@example.org"}).status_code == 302
    assert len(mail.outbox) == 1


def test_backup_codes_are_offered_after_totp_enrolment(clinic: Clinic) -> None:
    client = clinic.client("ada")
    page = client.get("/account/two_factor/setup/complete/").content.decode()
    assert "Now make your backup codes" in page
    assert 'action="/account/two_factor/backup/tokens/"' in page
    shown = client.post("/account/two_factor/backup/tokens/", follow=True).content.decode()
    device = StaticDevice.objects.get(user=clinic.users["ada"])
    tokens = list(device.token_set.values_list("token", flat=True))
    assert len(tokens) == 10 and all(token in shown for token in tokens)


def test_the_header_shows_the_signed_in_person_and_role(clinic: Clinic) -> None:
    html = clinic.client("ben").get("/today/").content.decode()
    assert 'class="dropdown kc-account"' in html
    assert "Infusion nurse" in html and "ben" in html
