from django.urls import path

from ketaclinic.fhir import operations, views
from ketaclinic.fhir.registry import TYPES
from ketaclinic.fhir.smart import views as smart_views

app_name = "fhir"

# Searched through the shared search layer; each is also read by id.
SEARCHED = [name for name in TYPES if name != "QuestionnaireResponse"]

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("", views.transaction, name="transaction"),
    path("Questionnaire", views.questionnaire_type, name="questionnaire"),
    path("Questionnaire/<str:resource_id>", views.questionnaire_read, name="questionnaire_read"),
    path("Organization", views.organization_type, name="organization"),
    path("Organization/<str:resource_id>", views.organization_read, name="organization_read"),
    path("QuestionnaireResponse", views.questionnaire_response_type, name="response"),
    path(
        "QuestionnaireResponse/<str:resource_id>",
        views.resource_read,
        {"type_name": "QuestionnaireResponse"},
        name="response_read",
    ),
    *(path(name, views.resource_type, {"type_name": name}, name=name.lower()) for name in SEARCHED),
    *(
        path(
            f"{name}/<str:resource_id>",
            views.resource_read,
            {"type_name": name},
            name=f"{name.lower()}_read",
        )
        for name in SEARCHED
    ),
    # SMART Backend Services (fhir/smart/): discovery and the token endpoint.
    path(
        ".well-known/smart-configuration",
        smart_views.smart_configuration_view,
        name="smart_configuration",
    ),
    path("auth/token", smart_views.token, name="smart_token"),
    # Documents' content, history and versioned reads, $everything (fhir/operations.py).
    path("Binary/<str:resource_id>", operations.binary_read, name="binary_read"),
    path(
        "Patient/<str:resource_id>/$everything",
        operations.patient_everything,
        name="patient_everything",
    ),
    path("<str:type_name>/<str:resource_id>/_history", operations.history, name="history"),
    path(
        "<str:type_name>/<str:resource_id>/_history/<str:version_id>",
        operations.version_read,
        name="version_read",
    ),
]

# Bulk Data export (ketaclinic/fhir/bulk/): first, so that ``Patient/$export`` is not a read.
from ketaclinic.fhir.bulk import urls as bulk_urls  # noqa: E402

urlpatterns = bulk_urls.urlpatterns + urlpatterns
