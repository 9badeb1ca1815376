from django.urls import path

from ketaclinic.accounts import views

app_name = "accounts"
urlpatterns = [
    path("lockouts/", views.lockouts, name="lockouts"),
]
