from django.contrib.auth import views as auth_views
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls

from ketaclinic.accounts.views import two_factor_disable
from ketaclinic.api.v1 import api
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
    path("patients/", include("ketaclinic.patients.urls")),
    path("audit/", include("ketaclinic.audit.urls")),
    path("intake/", include("ketaclinic.intake.urls")),
    path("intake/", include("ketaclinic.eligibility.urls")),
    path("intake/", include("ketaclinic.consent.urls")),
    path("scales/", include("ketaclinic.scales.urls")),
    path("courses/", include("ketaclinic.courses.urls")),
    path("ledger/", include("ketaclinic.ledger.urls")),
    path("infusions/", include("ketaclinic.infusions.urls")),
    path("monitors/", include("ketaclinic.monitors.urls")),
    path("api/v1/", api.urls),
    path("fhir/R4/", include("ketaclinic.fhir.urls")),
    # The public site last: it owns the remaining top-level paths (/about/, /screen/, ...).
    path("", include("ketaclinic.site.urls")),
]
