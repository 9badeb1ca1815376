from django.urls import path

from ketaclinic.today import views

app_name = "today"
urlpatterns = [
    path("", views.today, name="home"),
    path("verify/", views.verify, name="verify"),
]
