from django.urls import path

from ketaclinic.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.clinic, name="clinic"),
    path("csv/<str:table>/", views.clinic_csv, name="clinic_csv"),
    path("refresh/", views.refresh, name="refresh"),
    path("export/", views.export, name="export"),
    path("public/", views.public, name="public"),
    path("publish/", views.publish, name="publish"),
    path("publish/<int:figure_id>/approve/", views.publish_approve, name="publish_approve"),
]
