from django.urls import URLPattern

app_name = "scales"
urlpatterns: list[URLPattern] = []
