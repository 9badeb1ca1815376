from django.urls import URLPattern

app_name = "monitors"
urlpatterns: list[URLPattern] = []
