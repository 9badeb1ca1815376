from django.urls import path

from ketaclinic.fhir.smart import views

app_name = "smart"
urlpatterns = [
    path("", views.clients, name="clients"),
    path("<int:client_pk>/", views.client, name="client"),
]
