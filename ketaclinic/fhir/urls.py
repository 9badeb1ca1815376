from django.urls import path

from ketaclinic.fhir import views
from ketaclinic.fhir.registry import TYPES

app_name = "fhir"

# Searched through the shared search layer; each is also read by id.
SEARCHED = [name for name in TYPES if name != "QuestionnaireResponse"]

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
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
]

# Bulk Data export (ketaclinic/fhir/bulk/): first, so that ``Patient/$export`` is not a read.
from ketaclinic.fhir.bulk import urls as bulk_urls  # noqa: E402

urlpatterns = bulk_urls.urlpatterns + urlpatterns
