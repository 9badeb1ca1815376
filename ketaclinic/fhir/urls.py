from django.urls import path

from ketaclinic.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Questionnaire", views.questionnaire_type, name="questionnaire"),
    path("Questionnaire/<str:resource_id>", views.questionnaire_read, name="questionnaire_read"),
    path("QuestionnaireResponse", views.questionnaire_response_type, name="response"),
    path(
        "QuestionnaireResponse/<str:resource_id>",
        views.questionnaire_response_read,
        name="response_read",
    ),
    path("Observation", views.observation_type, name="observation"),
    path("Observation/<str:resource_id>", views.observation_read, name="observation_read"),
    path("Flag", views.flag_type, name="flag"),
]
