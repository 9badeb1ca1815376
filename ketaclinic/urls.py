from django.contrib.auth import views as auth_views
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls

from ketaclinic.accounts.views import two_factor_disable
from ketaclinic.api.v1 import api
from ketaclinic.portal.forms import AccountLanguagePasswordResetForm
from ketaclinic.portal.views import language as portal_language
from ketaclinic.web import views as web_views

web_patterns = (
    [
        path("", web_views.home, name="home"),
        path("me/", web_views.me, name="me"),
        path("healthz", web_views.healthz, name="healthz"),
    ],
    "web",
)

urlpatterns = [
    path("", include(web_patterns)),
    # Ours first: it refuses to turn 2FA off for the roles that must use it.
    path("account/two_factor/disable/", two_factor_disable, name="two_factor_disable"),
    path("", include(two_factor_urls)),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password change and reset by e-mail, in the clinic's templates (templates/registration/).
    path(
        "account/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "account/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "account/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=AccountLanguagePasswordResetForm),
        name="password_reset",
    ),
    path(
        "account/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("today/", include("ketaclinic.today.urls")),
    path("patients/", include("ketaclinic.patients.urls")),
    path("audit/", include("ketaclinic.audit.urls")),
    path("setup/", include("ketaclinic.accounts.urls")),
    path("intake/", include("ketaclinic.intake.urls")),
    path("intake/", include("ketaclinic.eligibility.urls")),
    path("intake/", include("ketaclinic.consent.urls")),
    path("scales/", include("ketaclinic.scales.urls")),
    path("courses/", include("ketaclinic.courses.urls")),
    path("ledger/", include("ketaclinic.ledger.urls")),
    path("infusions/", include("ketaclinic.infusions.urls")),
    path("outcomes/", include("ketaclinic.outcomes.urls")),
    path("portal/", include("ketaclinic.portal.urls")),
    path("portal/care-plan/", include("ketaclinic.careplan.portal_urls")),
    path("care-plans/", include("ketaclinic.careplan.urls")),
    # The language switch of the patient-facing pages (English, Spanish).
    path("i18n/language/", portal_language.language_set, name="set_language"),
    path("monitors/", include("ketaclinic.monitors.urls")),
    path("portal/reminders/", include("ketaclinic.reminders.urls.portal")),
    path("reminders/", include("ketaclinic.reminders.urls.staff")),
    path("api/v1/", api.urls),
    path("fhir/R4/", include("ketaclinic.fhir.urls")),
    path("setup/programs/", include("ketaclinic.fhir.smart.urls")),
    path("messages/", include("ketaclinic.messaging.urls")),
    path("letters/", include("ketaclinic.letters.urls")),
    # The public site last: it owns the remaining top-level paths (/about/, /screen/, ...).
    path("", include("ketaclinic.site.urls")),
]
