"""Consent pages (mounted under /intake/ next to the inquiry and evaluation pages; their own
namespace)."""

from django.urls import path

from ketaclinic.consent import views

app_name = "consent"
urlpatterns = [
    path("patients/<uuid:patient_id>/consent/", views.consent_tablet, name="consent_tablet"),
    path("consents/<int:signature_id>/pdf/", views.consent_pdf, name="consent_pdf"),
    path("sign/<str:token>/", views.consent_link, name="consent_link"),
    path("consent-documents/", views.document_list, name="documents"),
    path(
        "consent-documents/<slug:code>/new-version/",
        views.document_new_version,
        name="document_new_version",
    ),
]
