"""Pages for eligibility rules and consent signing (mounted under /intake/ next to the
inquiry pages; their own namespace)."""

from django.urls import path

from ketaclinic.intake import evaluation_views as views

app_name = "eligibility"
urlpatterns = [
    path("rules/", views.rules_edit, name="rules"),
    path("patients/<uuid:patient_id>/consent/", views.consent_tablet, name="consent_tablet"),
    path("consents/<int:signature_id>/pdf/", views.consent_pdf, name="consent_pdf"),
    path("sign/<str:token>/", views.consent_link, name="consent_link"),
]
