"""Pages for eligibility evaluations, decisions and rules (mounted under /intake/ next to the
inquiry pages; their own namespace)."""

from django.urls import path

from ketaclinic.eligibility import views

app_name = "eligibility"
urlpatterns = [
    path("rules/", views.rules_edit, name="rules"),
    path("rules/form/", views.rules_form, name="rules_form"),
    path(
        "patients/<uuid:patient_id>/evaluations/",
        views.patient_evaluations,
        name="patient_evaluations",
    ),
    path(
        "patients/<uuid:patient_id>/evaluations/new/",
        views.evaluation_new,
        name="evaluation_new",
    ),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="evaluation"),
    path(
        "evaluations/<int:evaluation_id>/decision/",
        views.evaluation_decide,
        name="evaluation_decide",
    ),
]
